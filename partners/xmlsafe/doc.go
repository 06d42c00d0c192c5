// Package xmlsafe is the one way the server reads XML from partners.
//
// Every byte passes through a guard that lexes the raw input before any
// parser sees it and refuses, as soon as it is read:
//
//   - any DOCTYPE or other <!…> declaration, so no entity is ever defined:
//     no billion laughs, no external entities (file:///etc/passwd), no DTD
//     fetched from anywhere;
//   - nesting deeper than Limits.MaxDepth, more than Limits.MaxElements
//     elements, a document longer than Limits.MaxBytes;
//   - an attribute value longer than Limits.MaxAttrBytes, a text node
//     longer than Limits.MaxTextBytes (elements named in Limits.LargeText,
//     which carry base64 documents, get Limits.MaxLargeTextBytes), an
//     element or attribute name longer than 256 bytes;
//   - text outside the root element and a second root element.
//
// Because the guard refuses before the parser buffers a value, a 10 MB
// attribute costs a few kilobytes, not tens of megabytes. Behind the guard,
// encoding/xml runs in strict mode with no Entity map (only the five
// predefined entities and character references exist), and etree runs with
// ReadSettings.MaxDepth set and Permissive off.
//
// Parse builds a whole etree document for request-sized bodies; Decoder
// streams tokens with the same caps and reads one element at a time as a
// detached tree, for batch files too large to hold as one tree.
//
// UTF-8 is the default; documents declaring GBK, GB2312 or GB18030 (common
// in Chinese core banking systems) are converted to UTF-8 before the guard,
// so every cap counts UTF-8 bytes. Any other declared encoding is refused.
//
// Faults come back as *Error with a stable code and a Chinese message; the
// server answers xml_too_large with 413 and every other code with 400.
package xmlsafe
