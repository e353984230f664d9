//go:debug randseednop=0

package main

import "github.com/faultline-dev/faultline/cli"

func main() { cli.Main() }
