import type { NextConfig } from "next";

// Nothing here is for auth-wasm: scripts/lib/www.sh installs it from the packed tarball,
// as users install it, and it needs no bundler configuration. The roots only say that
// www/ is its own app, not the repository whose lockfile lies above it.
const nextConfig: NextConfig = {
  turbopack: { root: __dirname },
  outputFileTracingRoot: __dirname,
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
