package registerdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"mortgaged/internal/db"
	"mortgaged/mortgage"
)

// Import limits.
const (
	// MaxLineBytes is the longest line Import reads; a longer line is a line
	// error and its content is skipped, not held.
	MaxLineBytes = 1 << 20
	// MaxLineErrors is how many line errors an ImportError lists; Total
	// counts them all.
	MaxLineErrors = 100
	// ProgressEvery is how many lines pass between progress calls.
	ProgressEvery = 1000
)

// Summary counts what an import wrote.
type Summary struct {
	Units            int `json:"units"`
	Owners           int `json:"owners"`
	Mortgages        int `json:"mortgages"` // distinct rights; one may cover several units
	Seizures         int `json:"seizures"`
	Objections       int `json:"objections"`
	Preregistrations int `json:"preregistrations"`
}

// ImportError says the file was refused and nothing was written. Errors
// holds the first MaxLineErrors faults in line order; Total counts every
// fault found.
type ImportError struct {
	Errors []LineError
	Total  int
}

// Error gives the count and the first few faults.
func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "register import refused, nothing written: %d fault(s)", e.Total)
	for i, le := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; %v", le)
	}
	return b.String()
}

// importer holds what the check pass learnt for the load pass.
type importer struct {
	today     time.Time
	records   []*record
	unitLine  map[string]int          // unit number → line, for duplicates and database errors
	mortgages map[string]*mortgageRow // certificate number → the right, shared across lines
	ordered   []*mortgageRow          // every right once, in file order
	errs      []LineError
	total     int
}

func (im *importer) fail(le LineError) {
	im.total++
	if len(im.errs) < MaxLineErrors {
		im.errs = append(im.errs, le)
	}
}

// Import reads a register file (JSON Lines, one unit a line; see
// docs/register-import.md) and writes it into the register.
//
// Every line is checked first, and every bad line is reported: if any line
// is bad, Import returns an *ImportError and writes nothing. Otherwise it
// loads the whole file in one transaction with COPY, and a unit or
// certificate number already in the database is again an *ImportError naming
// the line, with everything rolled back. Blank lines are skipped. progress,
// if not nil, is called with the number of lines read every ProgressEvery
// lines and once at the end of reading.
//
// Memory: lines are read one at a time, at most MaxLineBytes each, but the
// checked rows of the whole file are kept until the transaction, because
// the file is one all-or-nothing load. That is about 750 bytes a unit,
// some 75 MB live for 100,000 units: fine for a file of up to about 100,000
// units; split a larger register (by division) into several files.
func Import(ctx context.Context, db *sqlx.DB, r io.Reader, progress func(lines int)) (Summary, error) {
	im := &importer{
		today:     time.Now(),
		unitLine:  map[string]int{},
		mortgages: map[string]*mortgageRow{},
	}
	lr := lineReader{r: bufio.NewReaderSize(r, 64<<10), max: MaxLineBytes}
	n := 0
	for {
		line, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Summary{}, fmt.Errorf("read register file after line %d: %w", n, err)
		}
		n++
		if progress != nil && n%ProgressEvery == 0 {
			progress(n)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a byte order mark some editors write
		}
		switch {
		case tooLong:
			im.fail(LineError{Line: n, Message: fmt.Sprintf("行长度超过 %d 字节", MaxLineBytes)})
		case len(bytes.TrimSpace(line)) > 0:
			im.add(n, line)
		}
		if err := ctx.Err(); err != nil {
			return Summary{}, err
		}
	}
	if progress != nil && n%ProgressEvery != 0 {
		progress(n)
	}
	if im.total > 0 {
		return Summary{}, &ImportError{Errors: im.errs, Total: im.total}
	}
	return im.load(ctx, db)
}

// add checks one line against itself and against the lines before it.
func (im *importer) add(n int, line []byte) {
	_, rec, fs := parseLine(line, im.today)
	for _, f := range fs {
		f.Line = n
		im.fail(f)
	}
	if rec == nil {
		return
	}
	rec.line = n
	bad := false
	if first, dup := im.unitLine[rec.unitNumber]; dup {
		im.fail(LineError{Line: n, Field: "unitNumber", Message: fmt.Sprintf("不动产单元 %s 已在第 %d 行出现", rec.unitNumber, first)})
		bad = true
	} else {
		im.unitLine[rec.unitNumber] = n
	}
	parties := make([]mortgage.Party, len(rec.owners))
	for i, o := range rec.owners {
		parties[i] = o.party
	}
	for i, rm := range rec.mortgages {
		m := rm.m
		if m.cert != "" {
			if prev, ok := im.mortgages[m.cert]; ok {
				if diff := prev.sameTerms(m); diff != "" {
					im.fail(LineError{Line: n, Field: rm.field + "." + diff,
						Message: fmt.Sprintf("同一不动产登记证明号 %s 的抵押权在第 %d 行的记载与此不一致", m.cert, prev.firstLine)})
					bad = true
					continue
				}
				m = prev
				rec.mortgages[i].m = prev
			} else {
				im.mortgages[m.cert] = m
			}
		}
		if m.firstLine == 0 {
			m.firstLine = n
			im.ordered = append(im.ordered, m)
		}
		m.addParties(parties)
	}
	if !bad && im.total == 0 {
		// Once the file is known to be refused, keeping rows is pointless.
		im.records = append(im.records, rec)
	}
}

// addParties adds owners not yet among the right's mortgagors.
func (m *mortgageRow) addParties(ps []mortgage.Party) {
next:
	for _, p := range ps {
		for _, q := range m.parties {
			if q.IDType == p.IDType && q.IDNumber == p.IDNumber {
				continue next
			}
		}
		m.parties = append(m.parties, p)
	}
}

// SQL of the load.
const (
	// SHARE ROW EXCLUSIVE serialises imports with each other and with any
	// other writer of units, so the existence check below stays true until
	// commit; registrations only lock unit rows and are not held up.
	lockUnitsSQL         = `LOCK TABLE units IN SHARE ROW EXCLUSIVE MODE`
	existingUnitsSQL     = `SELECT unit_number FROM units WHERE unit_number = ANY($1)`
	existingMortgagesSQL = `SELECT certificate_number FROM mortgages WHERE certificate_number = ANY($1)`
	mortgageIDsSQL       = `SELECT nextval(pg_get_serial_sequence('mortgages', 'id')) FROM generate_series(1, $1)`
	// Registration certificate serials come from a sequence per authority
	// and year (next_certificate_serial, migration 0012): move the year's
	// sequences past the imported serials so new registrations never reuse
	// a number. A year without a sequence yet starts after the highest
	// serial in the register when first drawn.
	advanceSerialSQL = `SELECT advance_certificate_serials($1, $2)`
)

// checkChunk bounds the size of one = ANY($1) array.
const checkChunk = 10000

// load writes the checked file in one transaction.
func (im *importer) load(ctx context.Context, d *sqlx.DB) (sum Summary, err error) {
	err = db.WithTx(ctx, d, nil, func(tx *sqlx.Tx) (err error) {
		sum, err = im.loadIn(ctx, tx)
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	return sum, nil
}

func (im *importer) loadIn(ctx context.Context, tx *sqlx.Tx) (Summary, error) {
	var sum Summary
	if _, err := tx.ExecContext(ctx, lockUnitsSQL); err != nil {
		return sum, fmt.Errorf("lock units: %w", err)
	}
	if err := im.checkExisting(ctx, tx); err != nil {
		return sum, err
	}

	err := copyIn(ctx, tx, "units", []string{"unit_number", "location", "use", "area_m2",
		"title_certificate_number", "ownership_form", "mortgageable"}, func(put putFunc) error {
		for _, r := range im.records {
			if err := put(r.unitNumber, r.location, r.use, r.area, r.title, r.form, r.mortgageable); err != nil {
				return err
			}
		}
		sum.Units = len(im.records)
		return nil
	})
	if err != nil {
		return Summary{}, im.dbError("units", err)
	}

	err = copyIn(ctx, tx, "owners", []string{"unit_number", "seq", "name", "id_type", "id_number",
		"share_numerator", "share_denominator"}, func(put putFunc) error {
		for _, r := range im.records {
			for i, o := range r.owners {
				var num, den any
				if o.den != 0 {
					num, den = int64(o.num), int64(o.den)
				}
				if err := put(r.unitNumber, int64(i+1), o.party.Name, o.party.IDType, o.party.IDNumber, num, den); err != nil {
					return err
				}
				sum.Owners++
			}
		}
		return nil
	})
	if err != nil {
		return Summary{}, im.dbError("owners", err)
	}

	if err := im.loadMortgages(ctx, tx); err != nil {
		return Summary{}, err
	}
	sum.Mortgages = len(im.ordered)

	err = copyIn(ctx, tx, "seizures", []string{"unit_number", "authority", "document_number", "seized_from", "seized_until"},
		func(put putFunc) error {
			for _, r := range im.records {
				for _, s := range r.seizures {
					if err := put(r.unitNumber, s.Authority, s.DocumentNumber, s.From, nullString(s.Until)); err != nil {
						return err
					}
					sum.Seizures++
				}
			}
			return nil
		})
	if err != nil {
		return Summary{}, im.dbError("seizures", err)
	}
	err = copyIn(ctx, tx, "objections", []string{"unit_number", "applicant", "matter", "registered_on", "expires_on"},
		func(put putFunc) error {
			for _, r := range im.records {
				for _, o := range r.objections {
					if err := put(r.unitNumber, o.Applicant, o.Matter, o.RegisteredOn, nullString(o.ExpiresOn)); err != nil {
						return err
					}
					sum.Objections++
				}
			}
			return nil
		})
	if err != nil {
		return Summary{}, im.dbError("objections", err)
	}
	err = copyIn(ctx, tx, "preregistrations", []string{"unit_number", "kind", "holder_name", "holder_id_type",
		"holder_id_number", "registered_on"}, func(put putFunc) error {
		for _, r := range im.records {
			for _, p := range r.preregs {
				if err := put(r.unitNumber, p.Kind, p.HolderName, p.HolderIDType, p.HolderIDNumber, p.RegisteredOn); err != nil {
					return err
				}
				sum.Preregistrations++
			}
		}
		return nil
	})
	if err != nil {
		return Summary{}, im.dbError("preregistrations", err)
	}

	if err := im.advanceSerials(ctx, tx); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// checkExisting refuses units and certificate numbers already in the
// register, naming each line.
func (im *importer) checkExisting(ctx context.Context, tx *sqlx.Tx) error {
	numbers := make([]string, len(im.records))
	for i, r := range im.records {
		numbers[i] = r.unitNumber
	}
	var certs []string
	for _, m := range im.ordered {
		if m.cert != "" {
			certs = append(certs, m.cert)
		}
	}
	var faults []LineError
	for start := 0; start < len(numbers); start += checkChunk {
		var found []string
		if err := tx.SelectContext(ctx, &found, existingUnitsSQL, pq.Array(numbers[start:min(start+checkChunk, len(numbers))])); err != nil {
			return fmt.Errorf("check existing units: %w", err)
		}
		for _, u := range found {
			u = strings.TrimSpace(u) // char(28)
			faults = append(faults, LineError{Line: im.unitLine[u], Field: "unitNumber",
				Message: fmt.Sprintf("不动产单元 %s 已在登记簿中，不能重复导入", u)})
		}
	}
	for start := 0; start < len(certs); start += checkChunk {
		var found []string
		if err := tx.SelectContext(ctx, &found, existingMortgagesSQL, pq.Array(certs[start:min(start+checkChunk, len(certs))])); err != nil {
			return fmt.Errorf("check existing mortgages: %w", err)
		}
		for _, c := range found {
			faults = append(faults, im.certFault(c))
		}
	}
	if len(faults) == 0 {
		return nil
	}
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].Line < faults[j].Line })
	total := len(faults)
	return &ImportError{Errors: faults[:min(total, MaxLineErrors)], Total: total}
}

// certFault names the first line carrying a certificate number already registered.
func (im *importer) certFault(cert string) LineError {
	m := im.mortgages[cert]
	le := LineError{Message: fmt.Sprintf("不动产登记证明号 %s 已在登记簿中，不能重复导入", cert)}
	if m == nil {
		return le
	}
	le.Line = m.firstLine
	for _, r := range im.records {
		if r.line != m.firstLine {
			continue
		}
		for _, rm := range r.mortgages {
			if rm.m == m {
				le.Field = rm.field + ".certificateNumber"
			}
		}
	}
	return le
}

// loadMortgages writes the rights with ids taken from their sequence up
// front, so mortgage_units can be copied without a round trip per right.
func (im *importer) loadMortgages(ctx context.Context, tx *sqlx.Tx) error {
	if len(im.ordered) == 0 {
		return nil
	}
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, mortgageIDsSQL, len(im.ordered)); err != nil {
		return fmt.Errorf("reserve mortgage ids: %w", err)
	}
	if len(ids) != len(im.ordered) {
		return fmt.Errorf("reserve mortgage ids: got %d, want %d", len(ids), len(im.ordered))
	}
	err := copyIn(ctx, tx, "mortgages", []string{"id", "certificate_number", "kind", "collateral_kind", "principal_fen",
		"maximum_fen", "debt_start", "debt_end", "scope", "transfer_restricted", "mortgagors", "debtors",
		"mortgagee_name", "mortgagee_id_number", "state", "registered_at", "recording_officer"}, func(put putFunc) error {
		for i, m := range im.ordered {
			m.id = ids[i]
			parties, err := json.Marshal(m.parties)
			if err != nil {
				return err
			}
			// The register records the owners as both mortgagors and
			// debtors: the usual case, and all an import can know.
			if err := put(m.id, nullString(m.cert), m.kind, m.collateral, nullFen(m.principal), nullFen(m.maximum),
				m.debtStart, m.debtEnd, m.scope, m.transferRestricted, string(parties), string(parties),
				m.mortgagee.Name, m.mortgagee.IDNumber, int64(1), m.registeredAt, m.officer); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return im.dbError("mortgages", err)
	}
	err = copyIn(ctx, tx, "mortgage_units", []string{"mortgage_id", "unit_number", "rank", "current"}, func(put putFunc) error {
		for _, r := range im.records {
			for _, rm := range r.mortgages {
				if err := put(rm.m.id, r.unitNumber, int64(rm.rank), true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return im.dbError("mortgage_units", err)
	}
	return nil
}

// advanceSerials moves each year's certificate sequence past the largest
// imported serial of that year.
func (im *importer) advanceSerials(ctx context.Context, tx *sqlx.Tx) error {
	top := map[int]int{}
	for _, m := range im.ordered {
		if m.cert == "" {
			continue
		}
		c, err := mortgage.ParseCertificateNumber(m.cert)
		if err != nil {
			continue // cannot happen: checked on reading
		}
		top[c.Year] = max(top[c.Year], c.Serial)
	}
	years := make([]int, 0, len(top))
	for y := range top {
		years = append(years, y)
	}
	sort.Ints(years)
	for _, y := range years {
		if _, err := tx.ExecContext(ctx, advanceSerialSQL, y, top[y]); err != nil {
			return fmt.Errorf("certificate serials %d: %w", y, err)
		}
	}
	return nil
}

// dbError turns a unique violation during COPY (a concurrent writer got
// there first) into an ImportError naming the line, when the key says which.
func (im *importer) dbError(table string, err error) error {
	if pqErr := pq.As(err, pqerror.UniqueViolation); pqErr != nil {
		if _, val, ok := strings.Cut(pqErr.Detail, ")=("); ok {
			val, _, _ = strings.Cut(val, ")")
			val = strings.TrimSpace(val)
			if line, ok := im.unitLine[val]; ok {
				return &ImportError{Total: 1, Errors: []LineError{{Line: line, Field: "unitNumber",
					Message: fmt.Sprintf("不动产单元 %s 已在登记簿中，不能重复导入", val)}}}
			}
			if _, ok := im.mortgages[val]; ok {
				return &ImportError{Total: 1, Errors: []LineError{im.certFault(val)}}
			}
		}
	}
	return fmt.Errorf("import %s: %w", table, err)
}

// putFunc sends one row to a COPY.
type putFunc func(values ...any) error

// copyIn runs one COPY … FROM STDIN in tx, fed by rows.
func copyIn(ctx context.Context, tx *sqlx.Tx, table string, columns []string, rows func(put putFunc) error) error {
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf("COPY %s (%s) FROM STDIN", table, strings.Join(columns, ", ")))
	if err != nil {
		return err
	}
	put := func(values ...any) error {
		_, err := stmt.ExecContext(ctx, values...)
		return err
	}
	if err := rows(put); err != nil {
		stmt.Close()
		return err
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // flush and end the COPY
		stmt.Close()
		return err
	}
	return stmt.Close()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullFen(fen int64) any {
	if fen == 0 {
		return nil
	}
	return fen
}

// lineReader reads lines of up to max bytes; a longer line is reported as
// such and skipped without being held, so one bad line does not stop the
// check of the lines after it.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// next returns the next line without its line ending, or io.EOF.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // room for "\r\n"
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !read {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, err
		}
		line = bytes.TrimSuffix(lr.buf, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > lr.max {
			return nil, true, nil
		}
		return line, tooLong, nil
	}
}
