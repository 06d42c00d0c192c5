package console_test

import (
	"context"
	"testing"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/staff"
	"mortgaged/server/console"
)

// Staff in every test database. Their passwords are hashed once, in the
// template, because argon2id is slow on purpose.
var testStaff = []console.Staff{
	{Username: "wangli", DisplayName: "王丽", Role: console.RoleReviewer},
	{Username: "liuyang", DisplayName: "刘洋", Role: console.RoleReviewer},
	{Username: "zhaolei", DisplayName: "赵磊", Role: console.RoleSupervisor},
	{Username: "sunyue", DisplayName: "孙悦", Role: console.RoleAuditor},
}

const testPassword = "Qiqihar-desk-2026"

func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, url string) error {
		if err := pgtest.Migrate(ctx, url); err != nil {
			return err
		}
		d, err := db.Open(ctx, url)
		if err != nil {
			return err
		}
		defer d.Close()
		accounts := staff.NewStore(d)
		// Cheap hashes for the test accounts: every sign-in verifies one,
		// and at the production cost that is half a second of CPU under the
		// race detector. Verification reads the cost from the hash, so the
		// code under test is the production code.
		accounts.Cost = staff.Cost{MemoryKiB: 8 * 1024, Passes: 1, Lanes: 1}
		for _, s := range testStaff {
			if err := accounts.Add(ctx, "test", s, testPassword); err != nil {
				return err
			}
		}
		return nil
	})
}
