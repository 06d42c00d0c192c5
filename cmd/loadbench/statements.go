package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
)

// With -statements the cluster loads pg_stat_statements (planning tracked
// too), and loadbench prints where PostgreSQL spent its time per statement
// in phase 1 and in phase 3: the server-side half of a profile. It is off by
// default because tracking costs a little on every statement.

func resetStatements(ctx context.Context, d *sqlx.DB) error {
	_, err := d.ExecContext(ctx, `SELECT pg_stat_statements_reset()`)
	return err
}

// statementStat is one row of pg_stat_statements.
type statementStat struct {
	Query     string  `db:"query"`
	Calls     int64   `db:"calls"`
	ExecMs    float64 `db:"exec_ms"`  // total
	PlanMs    float64 `db:"plan_ms"`  // total
	Plans     int64   `db:"plans"`    // how often it was planned
	MeanExec  float64 `db:"mean_ms"`  // per call
	SharedHit int64   `db:"hit"`      // buffers found in shared_buffers
	Dirtied   int64   `db:"dirtied"`  // buffers this statement dirtied
	WALBytes  float64 `db:"walbytes"` // WAL written
}

// printStatements writes the statements of our database by total time,
// with a per-transaction total over perTx transactions.
func printStatements(ctx context.Context, w io.Writer, d *sqlx.DB, title string, perTx int) error {
	var rows []statementStat
	if err := d.SelectContext(ctx, &rows, `SELECT s.query, s.calls, s.total_exec_time AS exec_ms,
			s.total_plan_time AS plan_ms, s.plans, s.mean_exec_time AS mean_ms,
			s.shared_blks_hit AS hit, s.shared_blks_dirtied AS dirtied, s.wal_bytes::float8 AS walbytes
		FROM pg_stat_statements s JOIN pg_database db ON db.oid = s.dbid
		WHERE db.datname = $1 AND s.query NOT LIKE '%pg_stat_statements%'
		ORDER BY s.total_exec_time + s.total_plan_time DESC LIMIT 20`, dbName); err != nil {
		return err
	}
	var exec, plan, wal float64
	fmt.Fprintf(w, "\n%s: PostgreSQL time by statement (pg_stat_statements)\n", title)
	fmt.Fprintf(w, "%9s %9s %9s %9s %8s %8s  %s\n", "calls", "exec ms", "plan ms", "planned", "µs/call", "WAL B", "statement")
	for _, r := range rows {
		exec, plan, wal = exec+r.ExecMs, plan+r.PlanMs, wal+r.WALBytes
		walPer := 0.0
		if r.Calls > 0 {
			walPer = r.WALBytes / float64(r.Calls)
		}
		fmt.Fprintf(w, "%9d %9.0f %9.0f %9d %8.0f %8.0f  %s\n", r.Calls, r.ExecMs, r.PlanMs, r.Plans,
			1000*(r.ExecMs+r.PlanMs)/float64(max(r.Calls, 1)), walPer, shorten(r.Query, 90))
	}
	if perTx > 0 {
		fmt.Fprintf(w, "per transaction: exec %.3f ms, planning %.3f ms, WAL %.0f bytes (over %d transactions)\n",
			exec/float64(perTx), plan/float64(perTx), wal/float64(perTx), perTx)
	}
	return nil
}

// shorten puts a statement on one line and cuts it.
func shorten(q string, n int) string {
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > n {
		return string(r[:n]) + "…"
	}
	return q
}
