package lock

import (
	"context"
	"errors"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

// ResolverRemote adapts a resolver to Remote: a tag that the registry or
// the git host does not know is "not found", any other failure an error.
func ResolverRemote(r *resolve.Resolver) Remote { return resolverRemote{r} }

type resolverRemote struct{ r *resolve.Resolver }

func (rr resolverRemote) Resolve(ctx context.Context, kind ref.Kind, name, tag string) (string, bool, error) {
	var res *resolve.Result
	if kind == ref.Action {
		res = rr.r.Action(ctx, name, tag)
	} else {
		res = rr.r.Image(ctx, name, tag)
	}
	switch {
	case res.Err == nil:
		return res.Digest, true, nil
	case errors.Is(res.Err, registry.ErrNotFound), errors.Is(res.Err, resolve.ErrUnknownRef):
		return "", false, nil
	}
	return "", false, res.Err
}

func (rr resolverRemote) Exists(ctx context.Context, name, digest string) (bool, error) {
	return rr.r.Exists(ctx, name, digest)
}
