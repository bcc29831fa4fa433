package owclient_test

import (
	"go/ast"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// parsePackage returns the package's documentation and the syntax of its
// non-test files.
func parsePackage(t *testing.T) (*token.FileSet, *doc.Package, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/owfuse/owfuse/owclient", doc.PreserveAST)
	if err != nil {
		t.Fatal(err)
	}
	return fset, p, files
}

// Every doc link in a comment ([Name], [Type.Method], [*Type]) names
// something the package declares: go doc shows a broken one as plain
// brackets, and nobody notices.
func TestDocLinksResolve(t *testing.T) {
	fset, p, files := parsePackage(t)
	valid := p.Parser()
	// Take every bracketed identifier for a link, then ask the package.
	anything := p.Parser()
	anything.LookupSym = func(recv, name string) bool { return true }
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, link := range docLinks(anything.Parse(cg.Text())) {
				if link.ImportPath == "" && !valid.LookupSym(link.Recv, link.Name) {
					name := link.Name
					if link.Recv != "" {
						name = link.Recv + "." + name
					}
					t.Errorf("%s: doc link [%s] names nothing in owclient", fset.Position(cg.Pos()), name)
				}
			}
		}
	}
}

// docLinks returns the doc links in d's text.
func docLinks(d *comment.Doc) []*comment.DocLink {
	var links []*comment.DocLink
	var walk func(texts []comment.Text)
	walk = func(texts []comment.Text) {
		for _, t := range texts {
			switch t := t.(type) {
			case *comment.DocLink:
				links = append(links, t)
				walk(t.Text)
			case *comment.Link:
				walk(t.Text)
			}
		}
	}
	for _, b := range d.Content {
		switch b := b.(type) {
		case *comment.Paragraph:
			walk(b.Text)
		case *comment.Heading:
			walk(b.Text)
		case *comment.List:
			for _, item := range b.Items {
				for _, c := range item.Content {
					if para, ok := c.(*comment.Paragraph); ok {
						walk(para.Text)
					}
				}
			}
		}
	}
	return links
}

// measurement matches figures from a particular run: durations below a
// millisecond, speed-ups, percentages, approximations and the word
// "measured". `make bench` reports those; a comment quoting them goes
// stale silently.
var measurement = regexp.MustCompile(`(?i)\d\s*(µs|us|ns)\b|\d\s*x (faster|slower|more|fewer)|\d\s*%|~\s*\d|\bmeasured\b`)

func TestCommentsQuoteNoMeasurements(t *testing.T) {
	fset, _, files := parsePackage(t)
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, line := range strings.Split(cg.Text(), "\n") {
				if m := measurement.FindString(line); m != "" {
					t.Errorf("%s: comment quotes a measurement (%q): %s", fset.Position(cg.Pos()), m, line)
				}
			}
		}
	}
}

// Every exported name has a doc comment (a group's comment serves its
// constants and variables), and the package's first sentence says what
// it is for.
func TestExportedNamesHaveDocs(t *testing.T) {
	_, p, _ := parsePackage(t)
	if !strings.HasPrefix(p.Doc, "Package owclient is ") {
		t.Errorf("package doc starts %q, want \"Package owclient is …\"", p.Synopsis(p.Doc))
	}
	undocumented := func(kind, name, doc string) {
		if ast.IsExported(name) && strings.TrimSpace(doc) == "" {
			t.Errorf("%s %s has no doc comment", kind, name)
		}
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, name := range v.Names {
				undocumented("value", name, v.Doc)
			}
		}
	}
	funcs := func(recv string, fs []*doc.Func) {
		for _, f := range fs {
			undocumented("func", recv+f.Name, f.Doc)
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs("", p.Funcs)
	for _, typ := range p.Types {
		undocumented("type", typ.Name, typ.Doc)
		values(typ.Consts)
		values(typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name+".", typ.Methods)
	}
}
