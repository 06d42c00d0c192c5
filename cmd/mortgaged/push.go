package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"mortgaged/partners"
	"mortgaged/sync/outbox"
	"mortgaged/sync/push"
	"mortgaged/sync/pushsig"
)

// pushFlags are the flags of "partner push".
type pushFlags struct {
	callback, schedule, mode string
	disable                  bool
}

func (f *pushFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.callback, "callback", "", "the partner's callback URL (https; http only inside the centre's network)")
	fs.StringVar(&f.schedule, "schedule", "", "when to push: '@every 1m' or a cron expression in Beijing time such as '0 18 * * *' (default: keep, initially @every 1m)")
	fs.StringVar(&f.mode, "mode", "", "each (one POST per event) or batch (one document per run) (default: keep, initially each)")
	fs.BoolVar(&f.disable, "disable", false, "stop pushing to the partner (its events stay available to pull)")
}

// partnerPush shows, sets or stops a partner's push.
func partnerPush(ctx context.Context, reg *partners.Registry, id string, f pushFlags) error {
	switch {
	case f.disable:
		if err := reg.StopPush(ctx, id); err != nil {
			return err
		}
		fmt.Printf("push to %s stopped; its events stay available to GET /v1/events.\n", id)
		return nil
	case f.callback == "":
		if f.schedule != "" || f.mode != "" {
			return errors.New("partner push: -schedule and -mode need -callback")
		}
		p, err := reg.PushSettings(ctx, id)
		if err != nil {
			return err
		}
		state := "on"
		switch {
		case p.CallbackURL == "":
			state = "not set up (pull only)"
		case !p.Enabled:
			state = "stopped"
		case !p.PartnerEnabled:
			state = "partner disabled"
		}
		fmt.Printf("partner:  %s\npush:     %s\ncallback: %s\nschedule: %s\nmode:     %s\nsecret:   %v\n",
			id, state, p.CallbackURL, p.Schedule, p.Mode, map[bool]string{true: "set", false: "none"}[p.HasSecret])
		return nil
	}
	key, err := reg.SetPush(ctx, id, f.callback, f.schedule, f.mode)
	if err != nil {
		return err
	}
	p, err := reg.PushSettings(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("push to %s is on: %s, %s, mode %s (running nodes pick it up within %s).\n", id, p.CallbackURL, p.Schedule, p.Mode, push.DefaultReconcile)
	if key != nil {
		fmt.Printf("webhook secret (shown once; give it to the partner for its secret store):\n%s\n", pushsig.FormatSecret(key))
	}
	return nil
}

// partnerWebhookSecret replaces a partner's webhook secret and shows it once.
func partnerWebhookSecret(ctx context.Context, reg *partners.Registry, id string) error {
	key, err := reg.RotateWebhookSecret(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("new webhook secret for %s (shown once; deliveries from the next push run are signed with it):\n%s\n", id, pushsig.FormatSecret(key))
	return nil
}

// eventsCmd is the supervisor's view of the outbox: dead letters and redelivery.
func eventsCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("events: want dead or redeliver")
	}
	fs := flag.NewFlagSet("events "+args[0], flag.ExitOnError)
	partner := fs.String("partner", "", "only this partner's events")
	limit := fs.Int("limit", 100, "at most this many")
	c, d, err := adminDB(ctx, fs, idLast(args[1:]))
	if err != nil {
		return err
	}
	defer d.Close()
	switch args[0] {
	case "dead":
		ds, err := outbox.DeadLetters(ctx, d.DB, *partner, *limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EVENT\tPARTNER\tTYPE\tSUBJECT\tOCCURRED\tATTEMPTS\tLAST ATTEMPT\tLAST ERROR")
		for _, e := range ds {
			last := "-"
			if e.LastAttemptAt.Valid {
				last = e.LastAttemptAt.Time.In(c.Registration.Location).Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.PartnerID, e.Type, e.Subject,
				e.OccurredAt.In(c.Registration.Location).Format(time.DateTime), e.Attempts, last, strings.ReplaceAll(e.LastError, "\n", " "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%d dead letter(s); redeliver one with: mortgaged events redeliver EVENT_ID\n", len(ds))
		return nil
	case "redeliver":
		if fs.NArg() == 0 {
			return errors.New("events redeliver: want one or more event ids")
		}
		for _, id := range fs.Args() {
			if err := outbox.Redeliver(ctx, d.DB, id); err != nil {
				return err
			}
			fmt.Printf("%s queued: the partner's next push run delivers it (one attempt; if it fails it is a dead letter again).\n", id)
		}
		return nil
	}
	return fmt.Errorf("events: unknown subcommand %q", args[0])
}

// idLast lets ids come before flags ("partner push ID -callback URL",
// "events redeliver ID… -data DIR"): the flag package stops at the first
// argument that is not a flag, so leading ids are moved to the end.
func idLast(args []string) []string {
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		i++
	}
	return append(append([]string(nil), args[i:]...), args[:i]...)
}
