package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
)

// k8sDoc is the part of a Kubernetes object the manifests' test reads.
type k8sDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Command      []string `yaml:"command"`
					Args         []string `yaml:"args"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name string `yaml:"name"`
					PVC  struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readManifest(t *testing.T, path string) []k8sDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []k8sDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(false)
	for {
		var d k8sDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
	return docs
}

// faultlineCommands returns the faultline command lines of a container's
// shell script, with the completion index replaced.
func faultlineCommands(t *testing.T, d k8sDoc, index int) [][]string {
	t.Helper()
	c := d.Spec.Template.Spec.Containers
	if len(c) != 1 || !slices.Equal(c[0].Command, []string{"sh", "-c"}) || len(c[0].Args) != 1 {
		t.Fatalf("%s: want one container running sh -c SCRIPT", d.Metadata.Name)
	}
	script := strings.ReplaceAll(c[0].Args[0], "${JOB_COMPLETION_INDEX}", fmt.Sprint(index))
	var out [][]string
	for _, part := range strings.Split(script, "&&") {
		f := strings.Fields(part)
		if len(f) > 0 && f[0] == "exec" {
			f = f[1:]
		}
		if len(f) > 0 && f[0] == "faultline" {
			out = append(out, f[1:])
		}
	}
	return out
}

// parses checks a command line against the CLI: the command exists and
// takes those flags.
func parses(t *testing.T, args []string) {
	t.Helper()
	root := (&app{stdout: io.Discard, stderr: io.Discard}).root()
	cmd, rest, err := root.Find(args)
	if err == nil {
		err = cmd.ParseFlags(rest)
	}
	if err != nil || cmd == root {
		t.Errorf("faultline %s: %v", strings.Join(args, " "), err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	docs := readManifest(t, "../deploy/kubernetes/campaign.yaml")
	if len(docs) != 2 || docs[0].Kind != "PersistentVolumeClaim" || docs[1].Kind != "Job" {
		t.Fatalf("campaign.yaml: want a PersistentVolumeClaim and a Job, got %+v", docs)
	}
	pvc, job := docs[0], docs[1]
	n := job.Spec.Completions
	if job.Spec.CompletionMode != "Indexed" || n < 2 || job.Spec.Parallelism != n {
		t.Fatalf("job: completionMode %q, completions %d, parallelism %d: want Indexed with parallelism = completions",
			job.Spec.CompletionMode, n, job.Spec.Parallelism)
	}
	tmpl := job.Spec.Template.Spec
	if len(tmpl.Volumes) != 1 || tmpl.Volumes[0].PVC.ClaimName != pvc.Metadata.Name {
		t.Errorf("job volumes %+v do not claim %s", tmpl.Volumes, pvc.Metadata.Name)
	}
	mount := tmpl.Containers[0].VolumeMounts
	if len(mount) != 1 || mount[0].Name != tmpl.Volumes[0].Name {
		t.Fatalf("job mounts %+v", mount)
	}
	var shardDirs []string
	for i := range n {
		cmds := faultlineCommands(t, job, i)
		if len(cmds) != 1 || len(cmds[0]) < 2 || cmds[0][0] != "campaign" || cmds[0][1] != "start" {
			t.Fatalf("index %d: want one `faultline campaign start`, got %v", i, cmds)
		}
		args := cmds[0]
		parses(t, args)
		shard, shards, err := campaign.ParseShard(flagValue(args, "shard"))
		if err != nil || shard != i || shards != n {
			t.Errorf("index %d: --shard %q (%v): want %d/%d", i, flagValue(args, "shard"), err, i, n)
		}
		dir := flagValue(args, "dir")
		if !strings.HasPrefix(dir, mount[0].MountPath+"/") || slices.Contains(shardDirs, dir) {
			t.Errorf("index %d: --dir %q: want a directory of its own under %s", i, dir, mount[0].MountPath)
		}
		shardDirs = append(shardDirs, dir)
		if _, err := casestudies.Lookup(flagValue(args, "target")); err != nil {
			t.Error(err)
		}
	}

	merge := readManifest(t, "../deploy/kubernetes/merge.yaml")
	if len(merge) != 1 || merge[0].Kind != "Job" {
		t.Fatalf("merge.yaml: want one Job")
	}
	if v := merge[0].Spec.Template.Spec.Volumes; len(v) != 1 || v[0].PVC.ClaimName != pvc.Metadata.Name {
		t.Errorf("merge job volumes %+v", v)
	}
	cmds := faultlineCommands(t, merge[0], 0)
	if len(cmds) == 0 || len(cmds[0]) < 3 || cmds[0][0] != "campaign" || cmds[0][1] != "merge" {
		t.Fatalf("merge job: want `faultline campaign merge DST SRC...`, got %v", cmds)
	}
	for _, c := range cmds {
		parses(t, c)
	}
	if srcs := cmds[0][3:]; !slices.Equal(srcs, shardDirs) {
		t.Errorf("merge job merges %v, the shards write %v", srcs, shardDirs)
	}
}

// flagValue reads the value of --name (as "--name V" or "--name=V") in a
// command line ("" when absent).
func flagValue(args []string, name string) string {
	for i, arg := range args {
		if arg == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(arg, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}
