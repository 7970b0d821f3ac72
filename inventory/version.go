package inventory

import (
	"strings"

	apkversion "github.com/knqyf263/go-apk-version"
	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"
)

// CompareVersions orders two versions of a package of the given type with
// that package manager's rules: -1 if a is older, 0 if equal, +1 if newer.
// Versions the rules cannot parse are compared as plain strings, so the
// result is always a total order.
func CompareVersions(typ, a, b string) int {
	if a == b {
		return 0
	}
	switch typ {
	case TypeAPK:
		va, err1 := apkversion.NewVersion(a)
		vb, err2 := apkversion.NewVersion(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	case TypeDeb:
		va, err1 := debversion.NewVersion(a)
		vb, err2 := debversion.NewVersion(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	case TypeRPM:
		return sign(rpmversion.NewVersion(a).Compare(rpmversion.NewVersion(b)))
	}
	return strings.Compare(a, b)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
