package main

import (
	"flag"
	"testing"
	"time"
)

func TestDatabaseTimeoutsConfig(t *testing.T) {
	c, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DBTimeouts.Statement != 30*time.Second || c.DBTimeouts.IdleInTransaction != time.Minute {
		t.Errorf("default timeouts %+v, want 30s and 60s", c.DBTimeouts)
	}
	t.Setenv("MORTGAGED_STATEMENT_TIMEOUT", "5s")
	t.Setenv("MORTGAGED_IDLE_TX_TIMEOUT", "0")
	if c, err = loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil); err != nil {
		t.Fatal(err)
	}
	if c.DBTimeouts.Statement != 5*time.Second || c.DBTimeouts.IdleInTransaction != 0 {
		t.Errorf("configured timeouts %+v, want 5s and off", c.DBTimeouts)
	}
	t.Setenv("MORTGAGED_STATEMENT_TIMEOUT", "soon")
	if _, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil); err == nil {
		t.Errorf("MORTGAGED_STATEMENT_TIMEOUT=soon accepted")
	}
}
