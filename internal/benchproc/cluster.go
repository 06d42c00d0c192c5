package benchproc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/internal/db"
	"mortgaged/internal/pgcluster"
	"mortgaged/internal/seal"
	"mortgaged/partners"
	"mortgaged/partners/fundbatch"
)

// Cluster is a benchmark's private PostgreSQL cluster in a temp dir of its
// own.
type Cluster struct {
	*pgcluster.Cluster
	Keep       bool // Close leaves the folder, for a look afterwards
	statements bool
}

// statementsConf is the extra postgresql.conf that loads
// pg_stat_statements, planning tracked too.
var statementsConf = map[string]string{
	"shared_preload_libraries":          "pg_stat_statements",
	"pg_stat_statements.track_planning": "on",
	"pg_stat_statements.max":            "1000",
}

// StartCluster starts a fresh cluster in a new temp dir named by pattern
// (as os.MkdirTemp), durable as in production: fsync, synchronous_commit
// and full_page_writes on, so every commit waits for its WAL to reach the
// disk. With statements it loads pg_stat_statements, and Database creates
// the extension in each database. With keep, Close leaves the folder.
func StartCluster(ctx context.Context, pattern string, keep, statements bool) (*Cluster, error) {
	// The temp dir itself is the cluster directory: pgcluster hands it to the
	// postgres OS user when we are root, which a root-only parent would block.
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return nil, err
	}
	o := pgcluster.Options{Dir: dir, Fsync: true}
	if statements {
		o.ExtraConf = statementsConf
	}
	cl, err := pgcluster.Start(ctx, o)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Cluster{Cluster: cl, Keep: keep, statements: statements}, nil
}

// Close stops the cluster and removes its folder, unless c.Keep: then the
// caller says where it is (Dir) and how to start it (StartCommand).
func (c *Cluster) Close() error {
	err := c.Stop()
	if c.Keep {
		return err
	}
	if rerr := os.RemoveAll(c.Dir()); err == nil {
		err = rerr
	}
	return err
}

// Database creates the database name, opens it and migrates it to this
// binary's schema; in a cluster started with statements it also creates the
// pg_stat_statements extension there.
func (c *Cluster) Database(ctx context.Context, name string) (*sqlx.DB, error) {
	admin, err := db.Open(ctx, c.URL("postgres"))
	if err != nil {
		return nil, err
	}
	_, err = admin.ExecContext(ctx, `CREATE DATABASE `+name)
	admin.Close()
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, c.URL(name))
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx, d, nil); err != nil {
		d.Close()
		return nil, err
	}
	if c.statements {
		if _, err := d.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// ServerVersion is the cluster's PostgreSQL version (15.8).
func (c *Cluster) ServerVersion(ctx context.Context) (string, error) {
	admin, err := db.Open(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	var v string
	err = admin.GetContext(ctx, &v, `SHOW server_version`)
	return v, err
}

// MasterKey makes a throwaway master key, as a fresh installation does:
// the key as MORTGAGED_MASTER_KEY takes it (base64) and its sealer.
func MasterKey() (string, *seal.Sealer, error) {
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", nil, err
	}
	sealer, err := seal.New(key)
	if err != nil {
		return "", nil, err
	}
	return base64.StdEncoding.EncodeToString(key), sealer, nil
}

// AddPartner adds p to reg and issues it a request-signing key. With
// ratePerMinute > 0 its limits are first set to ratePerMinute and
// maxConcurrent: out of reach, so that the run measures the node and not
// the per-partner limiter.
func AddPartner(ctx context.Context, reg *partners.Registry, p partners.Partner, ratePerMinute, maxConcurrent int) (key string, err error) {
	if err := reg.Add(ctx, p); err != nil {
		return "", err
	}
	if ratePerMinute > 0 {
		if err := reg.SetLimits(ctx, p.ID, "", ratePerMinute, maxConcurrent, nil); err != nil {
			return "", err
		}
	}
	return reg.IssueKey(ctx, p.ID)
}

// LoadRegister puts one unit and its sole owner in the register for each
// of the first n generated holdings (fundbatch.GeneratedHolding), ten
// thousand at a time, and returns the holdings.
func LoadRegister(ctx context.Context, d *sqlx.DB, n int) ([]fundbatch.Holding, error) {
	hs := make([]fundbatch.Holding, n)
	for from := 0; from < n; from += 10_000 {
		var units, titles, names, ids []string
		for i := from; i < min(n, from+10_000); i++ {
			h := fundbatch.GeneratedHolding(i)
			hs[i] = h
			units, titles = append(units, h.UnitNumber), append(titles, h.TitleCertificateNumber)
			names, ids = append(names, h.Owner.Name), append(ids, h.Owner.IDNumber)
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form)
			SELECT u, '龙沙区卜奎大街' || ord || '号', 'residential', 90, c, 'sole' FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(u, c, ord)`,
			pq.Array(units), pq.Array(titles)); err != nil {
			return nil, err
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO owners (unit_number, seq, name, id_type, id_number)
			SELECT u, 1, nm, '1', id FROM unnest($1::text[], $2::text[], $3::text[]) AS x(u, nm, id)`,
			pq.Array(units), pq.Array(names), pq.Array(ids)); err != nil {
			return nil, err
		}
	}
	return hs, nil
}
