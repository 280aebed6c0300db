"use client";

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { useAuth } from "auth-wasm/react";
import { api } from "@/lib/api";
import { describeError } from "@/lib/errors";

export interface Note {
  id: number;
  text: string;
  created_at: string;
}

/** The notes the server rendered (`initial`; null when it could not read them, then
 * they are read here), then added and deleted through the browser's client. */
export function NotesList({ initial }: { initial: Note[] | null }) {
  const { client } = useAuth();
  const [notes, setNotes] = useState<Note[] | null>(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // Counts this page's own changes (add, delete). A list that was read before one of
  // them answers late (its request waited behind a token exchange, say) and would
  // undo it on screen: it is read again instead of shown.
  const changes = useRef(0);

  const fail = (err: unknown) => setError(err instanceof Error && err.name === "ApiError" ? err.message : describeError(err));

  const load = useCallback(async () => {
    if (!client) return;
    try {
      let list: Note[];
      let before: number;
      do {
        before = changes.current;
        list = await api<Note[]>(client, "/notes");
      } while (changes.current !== before);
      setNotes(list);
      setError(null);
    } catch (err) {
      fail(err);
    }
  }, [client]);

  useEffect(() => {
    if (initial === null) void load();
  }, [load, initial]);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = input.current?.value.trim() ?? "";
    if (!client || !text) return;
    setBusy(true);
    try {
      const note = await api<Note>(client, "/notes", { method: "POST", body: JSON.stringify({ text }) });
      changes.current += 1;
      setNotes((prev) => [note, ...(prev ?? [])]);
      setError(null);
      if (input.current) input.current.value = "";
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: number) {
    if (!client) return;
    try {
      await api<void>(client, `/notes/${id}`, { method: "DELETE" });
      changes.current += 1;
      setNotes((prev) => (prev ?? []).filter((n) => n.id !== id));
      setError(null);
    } catch (err) {
      fail(err);
    }
  }

  return (
    <div className="stack narrow-wide">
      <h1>Notes</h1>
      {error && (
        <div className="alert" role="alert" data-testid="notes-error">
          {error}{" "}
          <button type="button" className="link-button" onClick={() => void load()}>
            Retry
          </button>
        </div>
      )}
      <form className="inline-form" onSubmit={add}>
        <label htmlFor="note" className="visually-hidden">
          New note
        </label>
        <input id="note" ref={input} placeholder="Write a note…" maxLength={2000} autoComplete="off" />
        {/* Server-rendered: usable once the browser's client exists. */}
        <button type="submit" className="button" disabled={busy || !client}>
          Add note
        </button>
      </form>
      {notes === null ? (
        !error && <p className="muted">Loading notes…</p>
      ) : notes.length === 0 ? (
        <p className="muted">No notes yet.</p>
      ) : (
        <ul className="list" data-testid="notes">
          {notes.map((n) => (
            <li key={n.id}>
              <span>{n.text}</span>
              <button type="button" className="link-button danger" onClick={() => void remove(n.id)} aria-label={`Delete note: ${n.text}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
