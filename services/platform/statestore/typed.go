package statestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	insertErr := s.Insert(ctx, key, v)
	if insertErr == nil {
		return nil, nil
	}
	var stored T
	found, _, err := s.Get(ctx, key, &stored)
	if err != nil {
		return nil, errors.Join(insertErr, err)
	}
	if !found {
		return nil, fmt.Errorf("store %s: %w", key, insertErr)
	}
	return &stored, nil
}

// bulkChunk bounds the keys of one bulk read.
const bulkChunk = 250

// GetAll reads many keys, at most 250 to a call to the sidecar, and
// decodes the values of those that exist, by key.
func GetAll[T any](ctx context.Context, s *Store, keys []string) (map[string]*T, error) {
	out := make(map[string]*T, len(keys))
	for start := 0; start < len(keys); start += bulkChunk {
		items, err := s.GetBulk(ctx, keys[start:min(start+bulkChunk, len(keys))])
		if err != nil {
			return nil, err
		}
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
