package steps

// TagSelection checks a tag expression as --tags takes it and returns
// whether a scenario with tags (each with its "@") is selected, and the
// expression in godog's form, for runners of other feature files (the
// resource-server and client checks).
func TagSelection(expr string) (selected func(tags []string) bool, godog string, err error) {
	e, godog, err := parseTagExpression(expr)
	if err != nil {
		return nil, "", err
	}
	return e.matches, godog, nil
}

// JoinTags ANDs two godog tag expressions.
func JoinTags(a, b string) string { return joinTags(a, b) }
