package batches_test

import (
	"testing"

	"mortgaged/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }
