package pty

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestCommandSeesATerminal(t *testing.T) {
	control, term, err := Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer control.Close()
	if err := Resize(control, 100, 30); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "test -t 0 && echo tty; stty size")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close()
	r := bufio.NewReader(control)
	var lines []string
	for len(lines) < 2 {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	cmd.Wait()
	if len(lines) < 2 || lines[0] != "tty" || lines[1] != "30 100" {
		t.Fatalf("got %q, want [tty \"30 100\"]", lines)
	}
}
