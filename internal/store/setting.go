package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value of a setting, or an error wrapping ErrNotFound.
func (tx *Tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: setting %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %q: %w", key, err)
	}
	return v, nil
}

// PutSetting stores value under key, replacing any previous value.
func (tx *Tx) PutSetting(ctx context.Context, key, value string) error {
	_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: put setting %q: %w", key, err)
	}
	return nil
}

// PutSettingIfAbsent stores value unless key exists and returns the value stored afterwards
// (safe when several nodes bootstrap at once).
func (tx *Tx) PutSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value)
	if err != nil {
		return "", fmt.Errorf("store: put setting %q: %w", key, err)
	}
	// On PostgreSQL the INSERT waited for a concurrent one to commit; under READ COMMITTED
	// this statement sees its value.
	return tx.Setting(ctx, key)
}
