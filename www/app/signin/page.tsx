"use client";

import { AuthForm } from "@/components/AuthForm";
import { GuestOnly } from "@/components/Gates";

export default function SignIn() {
  return (
    <GuestOnly>
      <AuthForm mode="signin" />
    </GuestOnly>
  );
}
