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
