// Package features embeds the Gherkin feature files, so the oauthtrio
// binary carries its suite.
package features

import "embed"

// Files holds every *.feature file of this directory.
//
//go:embed *.feature
var Files embed.FS

// Roles holds the feature files of the other two roles, run with the
// suite's own OpenID provider as the issuer: resource-server/ (oauthtrio
// check --resource) and client/ (oauthtrio check --client). They are not
// part of Files: a run against an issuer never selects them.
//
//go:embed resource-server/*.feature client/*.feature
var Roles embed.FS
