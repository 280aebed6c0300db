// The part of Next's API that js/next.js uses (next/headers' cookies()), so js/
// type-checks without installing Next (an optional peer dependency of the package).
declare module "next/headers" {
  export function cookies(): Promise<{ get(name: string): { name: string; value: string } | undefined }>;
}
