package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"time"
)

// A checkpoint follows the last one after checkpointPause, or as soon as
// the WAL file has grown to checkpointBytes; the file's size is looked at
// every checkpointPoll meanwhile. Rare checkpoints copy less: a page
// written many times in between, such as the last leaf of a table or an
// index under random keys, is copied once. The WAL, which a completed
// checkpoint lets the writers start afresh, holds what is written in a
// pause, at most about checkpointBytes plus what comes during the copy.
const (
	checkpointPause = time.Second
	checkpointBytes = 32 << 20
	checkpointPoll  = 10 * time.Millisecond
)

// checkpointer copies the WAL into the database beside the writers.
// SQLite's automatic checkpoint runs inside the commit that crosses its
// threshold, with the write lock held through the copy and both files'
// fsyncs, so every write queued behind it waits. Here the bulk of the copy
// runs while writers go on. Only the frames they appended meanwhile are
// copied with the writers held off, so that the checkpoint completes and
// the next write starts the WAL afresh rather than let it grow.
type checkpointer struct {
	db      *sql.DB
	writer  writerSlot
	walPath string
	nudge   chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	// running is held through each checkpoint: SQLite runs one at a time
	// and answers a second with "busy" instead of waiting.
	running sync.Mutex
}

func newCheckpointer(db *sql.DB, writer writerSlot, walPath string) *checkpointer {
	c := &checkpointer{db: db, writer: writer, walPath: walPath,
		nudge: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

// due tells the checkpointer that a write was committed; it never waits.
func (c *checkpointer) due() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// close stops the checkpointer, also in a pause; SQLite checkpoints what
// is left when the last connection closes.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.stopped
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	ctx := context.Background()
	for {
		select {
		case <-c.nudge:
		case <-c.stop:
			return
		}
		c.checkpoint(ctx)
		if !c.pause() {
			return
		}
	}
}

// pause waits checkpointPause, or until the WAL file reaches
// checkpointBytes; it reports false when the checkpointer is stopped.
func (c *checkpointer) pause() bool {
	deadline := time.NewTimer(checkpointPause)
	defer deadline.Stop()
	poll := time.NewTicker(checkpointPoll)
	defer poll.Stop()
	for {
		select {
		case <-c.stop:
			return false
		case <-deadline.C:
			return true
		case <-poll.C:
			if fi, err := os.Stat(c.walPath); err == nil && fi.Size() >= checkpointBytes {
				return true
			}
		}
	}
}

// checkpoint runs the two steps.
func (c *checkpointer) checkpoint(ctx context.Context) {
	c.running.Lock()
	defer c.running.Unlock()
	if err := c.passive(ctx); err == nil {
		_ = c.writer.acquire(ctx)
		_ = c.passive(ctx)
		c.writer.release()
	}
}

// truncate copies the whole WAL into the database and empties it, with
// the writers held off.
func (c *checkpointer) truncate(ctx context.Context) error {
	c.running.Lock()
	defer c.running.Unlock()
	if err := c.writer.acquire(ctx); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	defer c.writer.release()
	// This checkpoint covers every commit so far: a pending request for
	// one is answered.
	select {
	case <-c.nudge:
	default:
	}
	var busy, frames, copied int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 {
		// A reader kept the WAL in use past the busy timeout.
		return fmt.Errorf("store: checkpoint: the WAL is still in use: %w", ErrUnavailable)
	}
	return nil
}

// passive runs one passive checkpoint. A failed checkpoint loses
// nothing; the next one copies what it left.
func (c *checkpointer) passive(ctx context.Context) error {
	var busy, frames, copied int
	return c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
}
