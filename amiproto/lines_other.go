//go:build !amd64 || purego

package amiproto

// lineFinder is the line and key scanner stepFrame uses: indexFinder where
// there is no assembly bitmap builder (or with the purego build tag).
type lineFinder = indexFinder
