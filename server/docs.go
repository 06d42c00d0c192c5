package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strconv"

	"github.com/gorilla/mux"

	"mortgaged/docs"
	"mortgaged/internal/fault"
)

// registerDocRoutes publishes, to anyone, the OpenAPI document (self-
// contained: the JSON Schemas it refers to are inlined) and the format
// files it points to: JSON Schemas, XSDs and format references.
func (s *Server) registerDocRoutes(root *mux.Router) {
	root.HandleFunc("/openapi.json", s.openAPI).Methods(http.MethodGet)
	root.HandleFunc("/docs/formats/{file}", s.formatFile).Methods(http.MethodGet)
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := docs.OpenAPI()
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*") // API tools in a browser may fetch it
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// formatTypes are the media types of the published format files, by
// extension; other files are not published.
var formatTypes = map[string]string{
	".json": "application/schema+json",
	".xsd":  "application/xml; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
}

func (s *Server) formatFile(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	media, ok := formatTypes[path.Ext(name)]
	var b []byte
	var err error
	if ok && fs.ValidPath(name) {
		b, err = fs.ReadFile(docs.Formats, name)
	}
	switch {
	case !ok || !fs.ValidPath(name) || errors.Is(err, fs.ErrNotExist):
		s.error(w, r, &fault.Error{Kind: fault.NotFound, Code: CodeNotFound, Detail: "没有这个格式文件。"})
		return
	case err != nil:
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
