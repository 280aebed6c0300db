import type { NextConfig } from "next";

// Nothing here is for auth-wasm: scripts/lib/www.sh installs it from the packed tarball,
// as users install it, and it needs no bundler configuration.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
