// Package partners knows who the centre's partners are — banks and the
// provident fund centre — and how to prove it: the partner registry and its
// credentials. The wire formats partners speak live in subpackages, one per
// format, each decoding into mortgage.Application and encoding answers back.
package partners
