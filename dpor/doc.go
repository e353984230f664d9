// Package dpor is dynamic partial-order reduction over a message-passing
// system's deliveries, after Flanagan and Godefroid ("Dynamic Partial-Order
// Reduction for Model Checking Software", POPL'05), with the source sets of
// Abdulla et al. (POPL'14), as DEMi uses it to find another interleaving of a
// schedule's events.
//
// Explore executes a plan (a schedule) on fresh systems, one execution after
// another. Every event of an execution is an event of one node: a delivery is
// an event of its destination, a clock advance, crash, recovery, client
// operation, membership change or transfer an event of its node, a partition
// or heal an event of every node. Two events are dependent when they are
// events of one node. Happens-before is computed with vector clocks: a node's
// events are ordered, and a message's delivery comes after the event that
// sent it (the one after which it first appeared among the pending messages).
//
// After each execution, each reversible race, a delivery or advance e_i and
// the previous event e_j of its node, when e_j does not happen before the
// sending of e_i's message, adds a backtrack point at the state before e_j:
// one of the initials of the events after e_j that do not depend on it,
// followed by e_i, unless one is already done or queued there. A backtrack
// point becomes a new plan: the execution's events up to e_j, the chosen
// event, then the rest of the execution in its order, replayed DEMi's way
// (an event that cannot happen is skipped). Plans wait in a queue ordered by
// their distance from the original plan (the number of reorderings that made
// them), nearest first, then latest backtrack point first.
//
// With Options.Wildcard, a planned delivery whose full fingerprint is not
// pending is matched by its type-only fingerprint; when several pending
// messages match, the best by interpose.Candidates (the most key fields in
// common, then the oldest) is taken and each of the others becomes a
// backtrack point; a planned advance stops at the node's next message of
// the recorded type (interpose.WildAdvance).
//
// External events are never chosen at a backtrack point: they keep their
// order, and only deliveries, drops, duplicates and advances move across
// them. A plan's events are followed by up to Options.Extend more events
// picked by a Chooser: Canonical (the first deliverable pending message;
// when there is none, an advance of the lowest-numbered node that is up), so
// that a system with finitely many messages is explored to quiescence, or
// the caller's (package minimize walks at random, seeded).
//
// An execution queues at most as many backtrack points as the executions
// left in the budget, deepest first: with a small budget, the analysis of a
// long execution stays cheap, and the points left out could never be run.
//
// Explore stops when Options.Stop accepts an execution, when no backtrack
// point is left (every Mazurkiewicz trace of the deliveries was covered, up
// to the extension's bound), or when the budget of executions or time is
// spent. Given a deterministic system and no deadline, the exploration is
// deterministic.
package dpor
