package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
)

// k8sContainer is the part of a container the manifests' test reads.
type k8sContainer struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string `yaml:"name"`
		ValueFrom struct {
			FieldRef struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

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
				RestartPolicy  string         `yaml:"restartPolicy"`
				InitContainers []k8sContainer `yaml:"initContainers"`
				Containers     []k8sContainer `yaml:"containers"`
				Volumes        []struct {
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

// completionIndexPath is the field a pod of an Indexed Job reads its
// completion index from.
const completionIndexPath = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

// faultlineCommands returns the faultline command lines of a Job's pod, its
// init containers' first, with every $(VAR) that names the completion index
// replaced by index. Every container runs the image the Dockerfile builds,
// whose entrypoint is faultline: no command of its own, the arguments in
// args.
func faultlineCommands(t *testing.T, d k8sDoc, index int) [][]string {
	t.Helper()
	spec := d.Spec.Template.Spec
	var out [][]string
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		if len(c.Command) != 0 || len(c.Args) == 0 {
			t.Fatalf("%s/%s: command %q, args %q: want the image's entrypoint (no command) and faultline's arguments",
				d.Metadata.Name, c.Name, c.Command, c.Args)
		}
		if !isFaultlineImage(c.Image) {
			t.Errorf("%s/%s: image %q: want the image the Dockerfile builds (REGISTRY/faultline:TAG)", d.Metadata.Name, c.Name, c.Image)
		}
		args := slices.Clone(c.Args)
		for _, e := range c.Env {
			if e.ValueFrom.FieldRef.FieldPath == completionIndexPath {
				for i := range args {
					args[i] = strings.ReplaceAll(args[i], "$("+e.Name+")", fmt.Sprint(index))
				}
			}
		}
		for _, a := range args {
			if strings.Contains(a, "$") {
				t.Errorf("%s/%s: argument %q names a variable that is not the completion index", d.Metadata.Name, c.Name, a)
			}
		}
		out = append(out, args)
	}
	return out
}

// isFaultlineImage reports whether image names a faultline image:
// [REGISTRY/]faultline:TAG.
func isFaultlineImage(image string) bool {
	name, tag, ok := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	return ok && name == "faultline" && tag != ""
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
	if len(tmpl.Containers) != 1 || len(tmpl.InitContainers) != 0 {
		t.Fatalf("job: want one container, got %d (and %d init containers)", len(tmpl.Containers), len(tmpl.InitContainers))
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
		t.Fatalf("merge job: want `faultline campaign merge DST SRC...` first, got %v", cmds)
	}
	if len(cmds) != 2 || !slices.Equal(cmds[1], []string{"campaign", "list", "--dir", cmds[0][2]}) {
		t.Errorf("merge job: want `faultline campaign list --dir %s` after the merge, got %v", cmds[0][2], cmds[1:])
	}
	if spec := merge[0].Spec.Template.Spec; len(spec.InitContainers) != 1 || len(spec.Containers) != 1 {
		t.Errorf("merge job: want the merge as its init container and the list as its container")
	} else {
		for _, c := range []k8sContainer{spec.InitContainers[0], spec.Containers[0]} {
			if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != mount[0].MountPath || c.VolumeMounts[0].Name != spec.Volumes[0].Name {
				t.Errorf("merge job: %s mounts %+v, want the claimed volume at %s", c.Name, c.VolumeMounts, mount[0].MountPath)
			}
		}
	}
	if img, mimg := job.Spec.Template.Spec.Containers[0].Image, merge[0].Spec.Template.Spec.Containers[0].Image; img != mimg {
		t.Errorf("the merge job runs %s, the campaign %s: want one image", mimg, img)
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

// TestKubernetesImageDockerfile checks the Dockerfile the manifests' image
// is built from: a Go stage of go.mod's version builds ./cmd/faultline
// without cgo, and the last stage copies that binary and makes it the
// entrypoint, the form the manifests' containers rely on. The build context
// keeps what the build needs. No Docker engine runs here: the image itself
// is not built by the tests.
func TestKubernetesImageDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	type stage struct {
		from, name string
		runs       []string
		copies     [][]string
		entrypoint []string
	}
	var stages []*stage
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		f := strings.Fields(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			s := &stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case "RUN":
			stages[len(stages)-1].runs = append(stages[len(stages)-1].runs, rest)
		case "COPY":
			stages[len(stages)-1].copies = append(stages[len(stages)-1].copies, f)
		case "ENTRYPOINT":
			var ep []string
			if err := json.Unmarshal([]byte(rest), &ep); err != nil {
				t.Fatalf("ENTRYPOINT %s: want the exec (JSON) form: %v", rest, err)
			}
			stages[len(stages)-1].entrypoint = ep
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var goVersion string
	for _, l := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			goVersion = strings.TrimSpace(v)
		}
	}
	if img, tag, _ := strings.Cut(build.from, ":"); img != "golang" || !strings.HasPrefix(tag, goVersion) || build.name == "" {
		t.Errorf("build stage FROM %s AS %q: want golang:%s AS NAME (go.mod's go %s)", build.from, build.name, goVersion, goVersion)
	}
	var binary string
	for _, r := range build.runs {
		f := strings.Fields(r)
		i := slices.Index(f, "build")
		if i < 1 || f[i-1] != "go" {
			continue
		}
		if !strings.Contains(r, "CGO_ENABLED=0") || f[len(f)-1] != "./cmd/faultline" {
			t.Errorf("RUN %s: want CGO_ENABLED=0 go build ... ./cmd/faultline", r)
		}
		if o := slices.Index(f, "-o"); o > 0 && o+1 < len(f) {
			binary = f[o+1]
		}
	}
	if binary == "" {
		t.Fatal("Dockerfile: no RUN ... go build -o FILE ./cmd/faultline in the build stage")
	}
	var installed string
	for _, c := range final.copies {
		if len(c) == 3 && c[0] == "--from="+build.name && c[1] == binary {
			installed = c[2]
		}
	}
	if installed == "" {
		t.Fatalf("runtime stage (FROM %s): no COPY --from=%s %s DEST", final.from, build.name, binary)
	}
	if strings.HasPrefix(final.from, "golang") {
		t.Errorf("runtime stage FROM %s: want a small image, not the Go toolchain", final.from)
	}
	if !slices.Equal(final.entrypoint, []string{installed}) {
		t.Errorf("ENTRYPOINT %q: want [%q], the binary alone, so that the manifests' args are faultline's", final.entrypoint, installed)
	}

	// The build context must keep what the build reads: the module, the
	// command and the schedules casestudies embeds.
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum", "cmd/faultline/main.go", "cli/main.go", "casestudies/testdata/hraft.min.json"}
	for _, p := range strings.Split(string(ignore), "\n") {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		for _, n := range needed {
			parts := strings.Split(n, "/")
			for i := range parts {
				if ok, _ := filepath.Match(p, strings.Join(parts[:i+1], "/")); ok {
					t.Errorf(".dockerignore: %q leaves %s out of the build", p, n)
				}
			}
		}
	}
}
