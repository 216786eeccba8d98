/**
 * True when the Accept-Encoding header allows gzip (`gzip` or `*`, not refused with q=0). Without the
 * header a client gets the bytes as they are (RFC 9110 allows either; curl sends none).
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header
  if (!value) return false
  let star = false
  for (const part of value.toLowerCase().split(',')) {
    const [coding, ...params] = part.split(';').map((piece) => piece.trim())
    const refused = params.some((param) => /^q=0(\.0{0,3})?$/.test(param))
    if (coding === 'gzip' || coding === 'x-gzip') return !refused
    if (coding === '*') star = !refused
  }
  return star
}
