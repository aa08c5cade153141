package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"gopkg.in/yaml.v3"
)

// No container engine runs where these tests do, so the image definition
// and the compose file are checked piece by piece: what they copy exists
// and is not ignored, the build command builds, the flags they give serve
// are serve's, and compose's command really serves.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	var out []instruction
	joined := strings.ReplaceAll(readRepoFile(t, "Dockerfile"), "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, args, _ := strings.Cut(line, " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")})
	}
	return out
}

// flagsOf lists the flags "oauthtrio NAME -h" prints.
func flagsOf(t *testing.T, name string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{name, "-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("%s -h: exit %d", name, code)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`).FindAllStringSubmatch(stdout.String(), -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 5 {
		t.Fatalf("%s -h lists %d flags; the test read nothing", name, len(flags))
	}
	return flags
}

// serveArgs checks a serve command line: every flag is serve's. It returns
// the flags' values.
func serveArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("%s: command %q, want serve", where, args)
	}
	known := flagsOf(t, "serve")
	values := map[string]string{}
	for i := 1; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok || !slices.Contains(known, name) {
			t.Errorf("%s: %q is not a flag of oauthtrio serve", where, args[i])
			continue
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			values[name] = args[i+1]
			i++
		}
	}
	return values
}

// ignored tells whether a .dockerignore pattern leaves out path (or a
// directory above it).
func ignored(patterns []string, path string) bool {
	for _, p := range patterns {
		for dir := path; dir != "." && dir != "/"; dir = filepath.Dir(dir) {
			if ok, _ := filepath.Match(strings.TrimPrefix(p, "**/"), dir); ok {
				return true
			}
			if ok, _ := filepath.Match(strings.TrimPrefix(p, "**/"), filepath.Base(dir)); ok && strings.HasPrefix(p, "**/") {
				return true
			}
		}
	}
	return false
}

func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	var froms []string
	var cmd, entrypoint []string
	user := ""
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in.args)
			user = ""
		case "USER":
			user = in.args
		case "CMD":
			if err := json.Unmarshal([]byte(in.args), &cmd); err != nil {
				t.Errorf("CMD %s: want the JSON form: %v", in.args, err)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &entrypoint); err != nil {
				t.Errorf("ENTRYPOINT %s: want the JSON form: %v", in.args, err)
			}
		}
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if len(froms) != 2 || goLine == nil || !strings.HasPrefix(froms[0], "golang:"+goLine[1]+"-") || !strings.HasSuffix(froms[0], " AS build") {
		t.Errorf("stages %q: want a golang:%s build stage, then the image", froms, goLine)
	}
	if len(froms) != 2 || !regexp.MustCompile(`^debian:[a-z]+-slim$`).MatchString(froms[1]) ||
		!strings.Contains(froms[0], "-"+strings.TrimSuffix(strings.TrimPrefix(froms[1], "debian:"), "-slim")+" ") {
		t.Errorf("the image is FROM %q: want debian:<release>-slim, the release the build stage has", froms)
	}
	if user == "" || user == "root" || user == "0" {
		t.Errorf("the image runs as %q; want a user of its own", user)
	}
	if !slices.Equal(entrypoint, []string{"oauthtrio"}) {
		t.Errorf(`ENTRYPOINT %q, want ["oauthtrio"]`, entrypoint)
	}
	values := serveArgs(t, "Dockerfile CMD", cmd)

	var ignore []string
	for _, l := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignore = append(ignore, l)
		}
	}
	var build, runs string
	for _, in := range ins {
		switch {
		case in.cmd == "COPY" && strings.HasPrefix(in.args, "--from="):
			if !strings.HasSuffix(in.args, " /usr/local/bin/oauthtrio") {
				t.Errorf("COPY %s: want the binary in /usr/local/bin, on the PATH", in.args)
			}
		case in.cmd == "COPY":
			f := strings.Fields(in.args)
			for _, src := range f[:len(f)-1] {
				if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil || (src != "." && ignored(ignore, src)) {
					t.Errorf("COPY %s: %s is missing or in .dockerignore (%v)", in.args, src, err)
				}
			}
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			build = in.args
		case in.cmd == "RUN":
			runs += in.args + "\n"
		}
	}
	for _, want := range []string{"apt-get install -y --no-install-recommends chromium", "useradd", "install -d -m 700 -o " + user + " " + values["state"], "rm -rf /var/lib/apt/lists/*"} {
		if !strings.Contains(runs, want) {
			t.Errorf("the image's RUN lacks %q", want)
		}
	}
	if !strings.HasSuffix(values["addr"], ":8443") || !slices.ContainsFunc(ins, func(in instruction) bool { return in.cmd == "EXPOSE" && in.args == "8443" }) {
		t.Errorf("serve --addr %s and EXPOSE differ", values["addr"])
	}

	// Everything the build compiles is in the build context.
	list, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./").Output()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(repoRoot)
	for _, dir := range strings.Fields(string(list)) {
		rel, _ := filepath.Rel(root, dir)
		if ignored(ignore, rel) {
			t.Errorf(".dockerignore leaves out %s, which the binary is built from", rel)
		}
	}

	// The build stage's command builds the binary, and it runs.
	if testing.Short() {
		t.Skip("builds the binary as the image does; skipped with -short")
	}
	m := regexp.MustCompile(`^go build (.*) -o (\S+) (\S+)$`).FindStringSubmatch(build)
	if m == nil {
		t.Fatalf("RUN %q: want go build FLAGS -o OUT PACKAGE", build)
	}
	out := filepath.Join(t.TempDir(), "oauthtrio")
	gb := exec.Command("go", append(append([]string{"build"}, strings.Fields(m[1])...), "-o", out, m[3])...)
	gb.Dir = repoRoot
	if b, err := gb.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	if v, err := exec.Command(out, "version").Output(); err != nil || !strings.HasPrefix(string(v), "oauthtrio ") {
		t.Errorf("the built binary: version %q, %v", v, err)
	}
}

type composeFile struct {
	Services map[string]struct {
		Build   string   `yaml:"build"`
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Ports   []string `yaml:"ports"`
		Volumes []string `yaml:"volumes"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// compose.yaml builds the image from this repository and runs serve with
// its state in a named volume and its port published on the loopback; the
// same command, on a free port and a temporary state directory, serves.
func TestComposeFile(t *testing.T) {
	var c composeFile
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "compose.yaml")), &c); err != nil {
		t.Fatal(err)
	}
	svc, ok := c.Services["oauthtrio"]
	if !ok || len(c.Services) != 1 {
		t.Fatalf("services %v: want oauthtrio alone", c.Services)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, svc.Build, "Dockerfile")); err != nil {
		t.Errorf("build: %v", err)
	}
	values := serveArgs(t, "compose.yaml command", svc.Command)
	state, addr, public := values["state"], values["addr"], values["public-url"]
	mounted := false
	for _, v := range svc.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		_, named := c.Volumes[src]
		mounted = mounted || (named && dst == state)
	}
	if state == "" || !mounted {
		t.Errorf("--state %q is not a named volume's mount (volumes %q)", state, svc.Volumes)
	}
	_, port, _ := strings.Cut(addr, ":")
	if len(svc.Ports) != 1 || svc.Ports[0] != "127.0.0.1:"+port+":"+port || public != "https://localhost:"+port {
		t.Errorf("ports %q, --addr %s, --public-url %s: want the port published on the loopback, as the public URL says", svc.Ports, addr, public)
	}

	if testing.Short() {
		t.Skip("runs serve; skipped with -short")
	}
	args := slices.Clone(svc.Command)
	for i := range args {
		switch {
		case i > 0 && args[i-1] == "--addr":
			args[i] = "127.0.0.1:0"
		case i > 0 && args[i-1] == "--state":
			// As the image makes it: the user's own, 0700 (serve refuses
			// a state directory others can read).
			args[i] = filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(args[i], 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(builtBinary(t), args...)
	stdout, stderr := startPiped(t, cmd)
	var seen bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(stdout, &seen))
	serving := false
	for sc.Scan() && !serving {
		serving = strings.Contains(sc.Text(), "state directory")
	}
	if !serving {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve %q printed no banner:\n%s\n%s", args, seen.String(), stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}
