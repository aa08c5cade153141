package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitInterrupted is the conventional status of a process ended by SIGINT
// (128 + 2); SIGTERM gets it too, as both mean "the user stopped it".
const exitInterrupted = 130

// interruptible returns a context that the first SIGINT or SIGTERM
// cancels, with the signal as its cause, so the command can stop cleanly
// and say why. A second signal exits at once: the user has waited enough.
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\noauthtrio: %v: stopping (a second signal exits at once)\n", signalName(sig))
			cancel(fmt.Errorf("%s", signalName(sig)))
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "oauthtrio: %v again: exiting now\n", signalName(sig))
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}
