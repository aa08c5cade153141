package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// Checkpoints come at most every checkpointPause, unless the WAL had grown
// past checkpointFrames (SQLite's own threshold: about 4 MB) since the
// last one; then the next follows at once.
const (
	checkpointPause  = 100 * time.Millisecond
	checkpointFrames = 1000
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
	nudge   chan struct{}
	stopped chan struct{}
	// running is held through each checkpoint: SQLite runs one at a time
	// and answers a second with "busy" instead of waiting.
	running sync.Mutex
}

func newCheckpointer(db *sql.DB, writer writerSlot) *checkpointer {
	c := &checkpointer{db: db, writer: writer, nudge: make(chan struct{}, 1), stopped: make(chan struct{})}
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

// close stops the checkpointer; SQLite checkpoints what is left when the
// last connection closes.
func (c *checkpointer) close() {
	close(c.nudge)
	<-c.stopped
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	ctx := context.Background()
	for range c.nudge {
		if frames := c.checkpoint(ctx); frames < checkpointFrames {
			time.Sleep(checkpointPause)
		}
	}
}

// checkpoint runs the two steps and returns how many frames the WAL held.
func (c *checkpointer) checkpoint(ctx context.Context) int {
	c.running.Lock()
	defer c.running.Unlock()
	frames, err := c.passive(ctx)
	if err == nil {
		_ = c.writer.acquire(ctx)
		_, _ = c.passive(ctx)
		c.writer.release()
	}
	return frames
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

// passive runs one passive checkpoint and returns how many frames the WAL
// held. A failed checkpoint loses nothing; the next one copies what it
// left.
func (c *checkpointer) passive(ctx context.Context) (frames int, err error) {
	var busy, copied int
	err = c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	return frames, err
}
