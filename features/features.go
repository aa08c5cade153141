// Package features embeds the Gherkin feature files, so the oauthtrio
// binary carries its suite.
package features

import "embed"

// Files holds every *.feature file of this directory.
//
//go:embed *.feature
var Files embed.FS
