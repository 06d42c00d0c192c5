package batches_test

import (
	"context"
	"testing"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, url string) error {
		d, err := db.Open(ctx, url)
		if err != nil {
			return err
		}
		defer d.Close()
		_, err = db.Migrate(ctx, d, nil)
		return err
	})
}
