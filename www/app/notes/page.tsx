// Rendered on the server: the notes are fetched here, from the API, with the bearer from
// the cookie (auth-wasm/next's fetch); adding and deleting are the browser's.
import { redirect } from "next/navigation";
import { SessionUnknown, SignedInContent } from "@/components/Gates";
import { NotesList, type Note } from "@/components/NotesList";
import { serverAuth } from "@/lib/server-auth";

async function readNotes(): Promise<Note[] | null> {
  try {
    const answer = await serverAuth().fetch("/notes");
    return answer.ok ? ((await answer.json()) as Note[]) : null;
  } catch {
    // The API is down: the browser reads them (and says so).
    return null;
  }
}

export default async function NotesPage() {
  const session = await serverAuth().getSession();
  if (session.status === "unknown") return <SessionUnknown />;
  if (session.status === "signed_out") redirect("/signin?returnTo=%2Fnotes");
  return (
    <SignedInContent>
      <NotesList initial={await readNotes()} />
    </SignedInContent>
  );
}
