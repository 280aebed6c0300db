import Link from "next/link";

export default function Home() {
  return (
    <div className="hero">
      <h1>Auth for Next.js with a separate backend</h1>
      <p className="lead">
        This demo signs you in against a FastAPI backend through <code>auth-wasm</code>, a Rust
        client compiled to WebAssembly: tokens in localStorage, bearer headers only to the API,
        refresh before expiry, and typed errors.
      </p>
      <div className="actions">
        <Link href="/signup" className="button">
          Create an account
        </Link>
        <Link href="/signin" className="button secondary">
          Sign in
        </Link>
      </div>
    </div>
  );
}
