package fundbatch

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"mortgaged/mortgage"
	"mortgaged/partners/problemxml"
)

// Holding is a unit the register knows and who owns it, for generated
// records to mortgage.
type Holding struct {
	UnitNumber             string
	TitleCertificateNumber string
	Owner                  mortgage.Party
}

// GenerateOptions describe a generated batch.
type GenerateOptions struct {
	BatchNumber string
	Date        mortgage.Date
	Records     int
	Mortgagee   mortgage.Party // the fund centre; its credit code must be valid
	// Holdings are mortgaged in turn (record i takes Holdings[i % n]); with
	// none, every record gets a unit and an owner of its own, made up with
	// valid check characters.
	Holdings []Holding
}

// Generate writes a valid batch file of opts.Records general first
// registrations, streaming, for tests, benchmarks and load runs. Every
// record passes mortgage.Validate on opts.Date with opts.Mortgagee as the
// submitting partner; the header's count and total agree with the body.
func Generate(w io.Writer, opts GenerateOptions) (Header, error) {
	h := Header{BatchNumber: opts.BatchNumber, Date: opts.Date, Records: opts.Records, Mortgagee: opts.Mortgagee}
	for i := range opts.Records {
		h.TotalFen += generatedAmount(i)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	head := etree.NewElement(headerName)
	problemxml.Text(head, "PCH", h.BatchNumber)
	problemxml.Text(head, "PCRQ", h.Date.Format("20060102"))
	problemxml.Text(head, "JLS", strconv.Itoa(h.Records))
	problemxml.Text(head, "ZJE", mortgage.FormatYuan(h.TotalFen))
	problemxml.Text(head, "DYQRMC", h.Mortgagee.Name)
	problemxml.Text(head, "DYQRZJZL", h.Mortgagee.IDType)
	problemxml.Text(head, "DYQRZJH", h.Mortgagee.IDNumber)
	if _, err := bw.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + rootName + ">\n"); err != nil {
		return h, err
	}
	if err := writeChild(bw, head); err != nil {
		return h, err
	}
	docs := generatedMaterials()
	for i := range opts.Records {
		a := generatedApplication(i, opts, docs)
		el := etree.NewElement(recordName)
		if err := recordDialect.EncodeElement(el, a); err != nil {
			return h, err
		}
		if err := writeChild(bw, el); err != nil {
			return h, err
		}
	}
	if _, err := bw.WriteString("</" + rootName + ">\n"); err != nil {
		return h, err
	}
	return h, bw.Flush()
}

// writeChild writes a child of the root, indented one level.
func writeChild(w io.Writer, el *etree.Element) error {
	doc := etree.NewDocument()
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	wrapper := doc.CreateElement(rootName)
	wrapper.AddChild(el)
	doc.Indent(2)
	s, err := doc.WriteToString()
	if err != nil {
		return err
	}
	open, end := "<"+rootName+">\n", "</"+rootName+">\n"
	_, err = io.WriteString(w, s[len(open):len(s)-len(end)])
	return err
}

// generatedAmount is record i's principal: 200,000.00 to 699,000.00 yuan.
func generatedAmount(i int) int64 { return int64(200_000+(i%500)*1_000) * 100 }

// generatedMaterials are three tiny but real PDF documents with their
// hashes, shared by every record.
func generatedMaterials() []mortgage.Material {
	var out []mortgage.Material
	for _, m := range []struct{ kind, name string }{
		{"application_form", "不动产登记申请书.pdf"}, {"loan_contract", "公积金借款合同.pdf"}, {"mortgage_contract", "抵押合同.pdf"},
	} {
		content := []byte("%PDF-1.4\n% generated " + m.kind + "\n%%EOF\n")
		sum := sha256.Sum256(content)
		out = append(out, mortgage.Material{Kind: m.kind, FileName: m.name, MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: content})
	}
	return out
}

func generatedApplication(i int, opts GenerateOptions, docs []mortgage.Material) *mortgage.Application {
	var hold Holding
	if len(opts.Holdings) > 0 {
		hold = opts.Holdings[i%len(opts.Holdings)]
	} else {
		hold = GeneratedHolding(i)
	}
	yes := i%7 == 0
	start := opts.Date
	return &mortgage.Application{
		Reference:  fmt.Sprintf("%s-%06d", opts.BatchNumber, i+1),
		Type:       mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: hold.UnitNumber, TitleCertificateNumber: hold.TitleCertificateNumber}},
		Mortgagors: []mortgage.Party{hold.Owner},
		Mortgagee:  opts.Mortgagee,
		Mortgage: &mortgage.Terms{
			CollateralKind: "2", PrincipalFen: generatedAmount(i),
			DebtStart: start, DebtEnd: mortgage.Date{Time: start.AddDate(10+i%21, 0, -1)},
			Scope: "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", TransferRestricted: &yes,
		},
		Materials: docs,
	}
}

// GeneratedHolding is the made-up unit and owner Generate uses for record
// i when no holdings are given: a 龙沙区 house with a unique unit number and
// title certificate, owned by a person with a valid resident ID.
func GeneratedHolding(i int) Holding {
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%10_000)
	first17 := fmt.Sprintf("230202%s%03d", birth.Format("20060102"), i%1000)
	id := first17 + string(mortgage.ResidentIDCheckChar(first17))
	return Holding{
		UnitNumber:             fmt.Sprintf("230202001001GB%05dF%04d%04d", i/10_000%100_000+1, i/100%100+1, i%100+1),
		TitleCertificateNumber: fmt.Sprintf("黑(2020)齐齐哈尔市不动产权第%07d号", i+1),
		Owner:                  mortgage.Party{Name: "业主" + strconv.Itoa(i+1), IDType: mortgage.IDResident, IDNumber: id},
	}
}
