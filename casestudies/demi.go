package casestudies

// DEMi is what DEMi's evaluation published for one case (Scott et al.,
// NSDI'16, from the authors' experiment logs; docs/case-studies.md): the
// initial faulty execution, DEMi's minimized one and the authors' hand-made
// minimum, in events (deliveries plus external events), and DEMi's
// minimization time.
type DEMi struct {
	Initial   int     `json:"initial_events"`
	Minimized int     `json:"minimized_events"`
	Manual    int     `json:"manual_events"`
	RuntimeS  float64 `json:"runtime_s"`
}

var demiResults = map[string]DEMi{
	"raft-45":  {Initial: 2160, Minimized: 23, Manual: 22, RuntimeS: 170},
	"raft-46":  {Initial: 1250, Minimized: 35, Manual: 23, RuntimeS: 282},
	"raft-56":  {Initial: 2380, Minimized: 82, Manual: 21, RuntimeS: 2132},
	"raft-58a": {Initial: 2850, Minimized: 226, Manual: 51, RuntimeS: 43482},
	"raft-58b": {Initial: 1500, Minimized: 40, Manual: 28, RuntimeS: 69},
	"raft-42":  {Initial: 1710, Minimized: 180, Manual: 39, RuntimeS: 10676},
	"raft-66":  {Initial: 400, Minimized: 77, Manual: 29, RuntimeS: 348},
	// DEMi's Spark cases (Spark's standalone master, Akka).
	"spark-2294": {Initial: 1000, Minimized: 40, Manual: 25, RuntimeS: 427},
	"spark-3150": {Initial: 600, Minimized: 14, Manual: 11, RuntimeS: 245},
	"spark-9256": {Initial: 300, Minimized: 11, Manual: 11, RuntimeS: 210},
}

// Cases lists the case studies of the side-by-side table: DEMi's seven
// Raft bugs and three Spark bugs in its order, then hraft-forgetful and the
// pool manager's failover bugs (no DEMi figures: Coyote's case study).
var Cases = []string{"raft-45", "raft-46", "raft-56", "raft-58a", "raft-58b", "raft-42", "raft-66",
	"spark-2294", "spark-3150", "spark-9256", "hraft-forgetful",
	"pool-resume-reallocates", "pool-no-etag", "pool-error-not-done"}

// DEMiResult returns DEMi's published result for a case, if it has one.
func DEMiResult(name string) (DEMi, bool) {
	d, ok := demiResults[name]
	return d, ok
}
