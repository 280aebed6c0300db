import path from "node:path";
import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // auth-wasm comes from ../pkg (a file: dependency): Turbopack must see the repo root.
  turbopack: { root: path.join(__dirname, "..") },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
