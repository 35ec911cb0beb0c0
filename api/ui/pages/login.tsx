/** @jsxImportSource hono/jsx */
/** The login form: an API token, posted once, kept in an HttpOnly session cookie; never in a URL. */
import { CSRF_FIELD } from '../session.js';

export function LoginPage({ csrf, failed }: { csrf: string; failed: string | null }) {
  return (
    <form method="post" action="/ui/login" class="login" id="login">
      {failed ? (
        <div class="problem" role="alert">
          {failed}
        </div>
      ) : null}
      <label>
        API token
        <input name="token" type="password" autocomplete="off" required maxlength={4096} />
      </label>
      <input type="hidden" name={CSRF_FIELD} value={csrf} />
      <button type="submit">Log in</button>
      <p class="muted">Use the API token a team admin issued you; the dashboard shows what that token may see and do.</p>
    </form>
  );
}
