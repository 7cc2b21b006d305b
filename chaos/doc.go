// Package chaos holds the chaos scenarios of the proof suite; it has no API.
package chaos
