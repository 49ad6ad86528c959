package statestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// GetOr reads the value under key, or answers notFound (a domain error)
// when the key does not exist.
func GetOr[T any](ctx context.Context, s *Store, key string, notFound error) (*T, error) {
	var v T
	found, _, err := s.Get(ctx, key, &v)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound
	}
	return &v, nil
}

// InsertOrGet writes v under key unless the key exists; then it answers
// what is stored there instead (nil when v was written). It is how a retried
// create finds the record its first attempt made.
func InsertOrGet[T any](ctx context.Context, s *Store, key string, v *T) (existing *T, err error) {
	existing, _, err = InsertOrGetVersioned(ctx, s, key, v, 0)
	return existing, err
}

// InsertOrGetVersioned is InsertOrGet for a key the store deletes by itself
// after ttl (0 keeps it), answering with what is stored its ETag too, for a
// claim that may be taken over (Save under that ETag).
func InsertOrGetVersioned[T any](ctx context.Context, s *Store, key string, v *T, ttl time.Duration) (existing *T, etag string, err error) {
	insertErr := s.SaveExpiring(ctx, key, v, "", ttl)
	if insertErr == nil {
		return nil, "", nil
	}
	var stored T
	found, etag, err := s.Get(ctx, key, &stored)
	if err != nil {
		return nil, "", errors.Join(insertErr, err)
	}
	if !found {
		return nil, "", fmt.Errorf("store %s: %w", key, insertErr)
	}
	return &stored, etag, nil
}

// GetAll reads many keys and decodes the values of those that exist, by key.
func GetAll[T any](ctx context.Context, s *Store, keys []string) (map[string]*T, error) {
	items, err := s.GetBulk(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(items))
	for _, it := range items {
		if it.Value == nil {
			continue
		}
		var v T
		if err := json.Unmarshal(it.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", it.Key, err)
		}
		out[it.Key] = &v
	}
	return out, nil
}

// GetInOrder is GetAll answering the values that exist in the order of keys.
func GetInOrder[T any](ctx context.Context, s *Store, keys []string) ([]*T, error) {
	byKey, err := GetAll[T](ctx, s, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(byKey))
	for _, k := range keys {
		if v, ok := byKey[k]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}
