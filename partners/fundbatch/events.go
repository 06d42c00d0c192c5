package fundbatch

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"mortgaged/mortgage"
)

// Events for the provident fund centre are written in its own style — the
// register's pinyin-initial names, no namespace — one document per event
// (GJJSJ, 公积金事件), and gathered into one file per scheduled delivery
// (GJJSJWJ, 公积金事件文件). docs/formats/fund-events-v1.xsd describes both.

// eventStatus is ZT: what the event says of the bundle.
var eventStatus = map[mortgage.Status]string{
	mortgage.StatusRegistered: "1", mortgage.StatusRejected: "2", mortgage.StatusDesk: "3", mortgage.StatusWithdrawn: "4",
}

// EncodeEvent writes one event as a GJJSJ document.
func EncodeEvent(e mortgage.Event, loc *time.Location) ([]byte, error) {
	ts := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("GJJSJ")
	text := func(parent *etree.Element, name, v string) {
		if v != "" {
			parent.CreateElement(name).SetText(v)
		}
	}
	text(root, "SJID", e.ID)
	text(root, "SJLX", string(e.Type))
	text(root, "FSSJ", ts(e.OccurredAt))
	if d := e.Decision; d != nil {
		yw := root.CreateElement("YW")
		text(yw, "YWH", d.Reference)
		text(yw, "SLBH", d.BundleID)
		text(yw, "DJLX", string(d.Type))
		text(yw, "ZT", eventStatus[d.Status])
		if r := d.Registration; r != nil {
			text(yw, "BDCDJZMH", r.CertificateNumber)
			text(yw, "DJSJ", ts(r.RegisteredAt))
			text(yw, "DBR", r.RecordingOfficer)
		}
		if c := d.Cancelled; c != nil {
			text(yw, "BDCDJZMH", c.CertificateNumber)
			text(yw, "ZXSJ", ts(c.CancelledAt))
			text(yw, "DBR", c.RecordingOfficer)
		}
		if d.Deadline != nil {
			text(yw, "BJQX", ts(*d.Deadline))
		}
		for _, group := range []struct {
			name   string
			issues mortgage.Issues
		}{{"YY", d.Reasons}, {"ZRGYY", d.DeskReasons}} {
			if len(group.issues) == 0 {
				continue
			}
			g := yw.CreateElement(group.name)
			for _, is := range group.issues {
				x := g.CreateElement("XM")
				text(x, "DM", string(is.Code))
				text(x, "ZD", is.Field)
				text(x, "SM", is.Message)
			}
		}
	}
	if c := e.Certificate; c != nil {
		zm := root.CreateElement("ZM")
		text(zm, "BDCDJZMH", c.Number)
		text(zm, "ZT", c.Status)
		text(zm, "YZM", c.VerificationCode)
		text(zm, "MYBH", c.KeyID)
		if len(c.JSON) > 0 {
			text(zm, "WJ", base64.StdEncoding.EncodeToString(c.JSON))
			text(zm, "QM", base64.StdEncoding.EncodeToString(c.JSONSignature))
		}
	}
	if b := e.Batch; b != nil {
		pc := root.CreateElement("PC")
		text(pc, "PCH", b.Number)
		text(pc, "JLS", strconv.Itoa(b.Records))
		text(pc, "DJS", strconv.Itoa(b.Registered))
		text(pc, "BYDJS", strconv.Itoa(b.Rejected))
		text(pc, "ZRGS", strconv.Itoa(b.Desk))
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}

// xmlDeclaration opens every event document; a file of events has one.
var xmlDeclaration = []byte(`<?xml version="1.0" encoding="UTF-8"?>`)

// EventFile gathers event documents (as EncodeEvent wrote them) into one
// GJJSJWJ file for a scheduled delivery, in order.
func EventFile(events [][]byte, generated time.Time, loc *time.Location) ([]byte, error) {
	var b bytes.Buffer
	b.Write(xmlDeclaration)
	fmt.Fprintf(&b, "\n<GJJSJWJ SL=\"%d\" SCSJ=\"%s\">\n", len(events), generated.In(loc).Format(time.RFC3339))
	for i, e := range events {
		body, ok := bytes.CutPrefix(bytes.TrimSpace(e), xmlDeclaration)
		if !ok {
			return nil, fmt.Errorf("event %d is not an event document", i)
		}
		b.Write(bytes.TrimSpace(body))
		b.WriteByte('\n')
	}
	b.WriteString("</GJJSJWJ>\n")
	return b.Bytes(), nil
}
