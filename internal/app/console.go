package app

import (
	"mortgaged/internal/config"
	"mortgaged/internal/staff"
	"mortgaged/server/console"
	"mortgaged/sync/outbox"
)

// ConsoleConfig is the console's part of the configuration.
func ConsoleConfig(c config.Config) console.Config {
	return console.Config{Location: c.Registration.Location, SecureCookies: c.Console.SecureCookies,
		IdleTimeout: c.Console.IdleTimeout, MaxLifetime: c.Console.MaxLifetime}
}

// mountConsole serves the staff console on the server, deciding through
// the node's registration service.
func (a *App) mountConsole() error {
	cc := ConsoleConfig(a.Config)
	cc.Calendar = a.Service.Config.Calendar
	con, err := console.New(console.Backend{Desk: console.MortgageDesk{Service: a.Service}, Register: a.Service,
		Staff: staff.NewStore(a.DB), DeadLetters: outbox.DeadLetterStore{DB: a.DB}}, cc, a.Log)
	if err != nil {
		return err
	}
	a.Server.MountConsole(con)
	return nil
}
