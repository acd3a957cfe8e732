/** Each request's URL, parsed once, for every module that wants its path or query. */
const urls = new WeakMap<Request, URL>();

export function urlOf(request: Request): URL {
  let url = urls.get(request);
  if (url === undefined) {
    url = new URL(request.url);
    urls.set(request, url);
  }
  return url;
}

/** The URL request-target.ts checked, so nothing parses it a second time. */
export function keepUrl(request: Request, url: URL): void {
  urls.set(request, url);
}
