package store

import (
	"context"

	"github.com/allot-dev/allot/internal/audit"
)

// Apply runs fn in one Update and returns its result, which it also records as the response
// of the call's audit event (the audit.Pending that ctx carries) inside the same transaction.
func Apply[Out any](ctx context.Context, db *DB, fn func(tx *Tx) (*Out, error)) (*Out, error) {
	var out *Out
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		if out, err = fn(tx); err != nil {
			return err
		}
		audit.PendingFrom(ctx).SetResponse(out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Read runs fn in one View and returns its result.
func Read[Out any](ctx context.Context, db *DB, fn func(tx *Tx) (*Out, error)) (*Out, error) {
	var out *Out
	err := db.View(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
