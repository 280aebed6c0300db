"use client";

import { AuthForm } from "@/components/AuthForm";
import { GuestOnly } from "@/components/Gates";

export default function SignUp() {
  return (
    <GuestOnly>
      <AuthForm mode="signup" />
    </GuestOnly>
  );
}
