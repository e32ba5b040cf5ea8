//go:build !race

package fence

const raceBuild = false
