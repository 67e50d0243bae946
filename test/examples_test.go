package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestExamples runs each script of examples/seeds against a fresh server with the AWS CLI v2,
// as examples/seeds/README.md tells a reader to: the endpoint and the management account's
// root credentials in the environment, nothing else. A script exits non-zero when one of its
// checks fails; the test then fails with the script's output.
func TestExamples(t *testing.T) {
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	bash := requireTool(t, "bash", lookPath("bash"))
	scripts, err := filepath.Glob(filepath.Join("..", "examples", "seeds", "[0-9]*-*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var runnable []string
	for _, s := range scripts {
		if st, err := os.Stat(s); err == nil && st.Mode()&0o111 != 0 {
			runnable = append(runnable, s) // the sourced helpers (000-world.sh) are not executable
		}
	}
	if len(runnable) == 0 {
		t.Fatal("no scripts in examples/seeds")
	}
	for _, script := range runnable {
		script := script
		t.Run(filepath.Base(script), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, serverOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // generous: a loaded machine slows the CLI several times over
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, script)
			cmd.Dir = t.TempDir() // the scripts must not depend on the working directory
			cmd.Env = append(cleanAWSEnv(),
				"ALLOT_ENDPOINT="+s.url,
				"AWS_ACCESS_KEY_ID="+rootKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecret, "AWS_DEFAULT_REGION="+region,
				"AWS_CLI="+cli,
				"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
			abs, err := filepath.Abs(script)
			if err != nil {
				t.Fatal(err)
			}
			cmd.Args[1] = abs
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash %s: %v after %s\n%s", filepath.Base(script), err, time.Since(start).Round(time.Millisecond), out)
			}
			t.Logf("%s passed in %s", filepath.Base(script), time.Since(start).Round(time.Millisecond))
		})
	}
}
