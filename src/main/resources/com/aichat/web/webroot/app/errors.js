// What a user is told when something goes wrong: REST errors by their stable code (README's error
// table) and failed replies (messageType "ai_error") by their error.code.

function seconds(n) {
  return n === 1 ? '1 second' : `${n} seconds`;
}

function localTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** A sentence for an ApiFailure. */
export function describeApiError(e) {
  const wait = e.retryAfterSeconds;
  switch (e.code) {
    case 'QUOTA_EXCEEDED': {
      const when = e.details.resetAt ? localTime(e.details.resetAt) : null;
      const plan = e.details.plan ? ` on the ${e.details.plan} plan` : '';
      const limit = e.details.limit ? `all ${e.details.limit} messages` : 'all the messages';
      return `You have used ${limit} of today's quota${plan}. You can send again ${when ? `after ${when}` : 'tomorrow'}.`;
    }
    case 'RATE_LIMITED':
      return `You are sending requests too quickly. Please wait ${wait ? seconds(wait) : 'a moment'} and try again.`;
    case 'OVERLOADED':
      return `The assistant is very busy right now and could not take your message. Please try again in ${wait ? seconds(wait) : 'a moment'}.`;
    case 'SUBSCRIPTION_REQUIRED':
      return 'Chatting needs an active subscription.';
    case 'UNAUTHENTICATED':
      return 'Your sign-in is no longer valid. Please sign in again.';
    case 'PAYLOAD_TOO_LARGE':
      return 'That message is too long to send.';
    case 'NOT_FOUND':
      return 'This chat no longer exists.';
    case 'NETWORK':
      return 'The service cannot be reached. Check your connection and try again.';
    case 'UNAVAILABLE':
    case 'TIMEOUT':
      return 'The service is temporarily unavailable. Please try again in a moment.';
    default:
      return e.message || 'Something went wrong.';
  }
}

const TRY_AGAIN = new Set(['provider_rate_limited', 'provider_overloaded', 'provider_unavailable', 'provider_timeout',
  'provider_unreachable', 'provider_stream_cut', 'provider_bad_stream', 'provider_stream_error',
  'provider_pool_exhausted', 'provider_error', 'worker_error']);

/** A sentence for a failed reply's {code, message}. */
export function describeAiError(error) {
  const code = error?.code ?? '';
  if (TRY_AGAIN.has(code)) {
    return 'The AI service was busy or unreachable, and retrying did not help. Please send your message again in a moment.';
  }
  if (code === 'provider_request_too_large') {
    return 'This conversation has become too long for the AI model. Start a new chat to continue.';
  }
  if (code === 'provider_invalid_request') {
    return 'The AI service could not process this message. Try rephrasing it.';
  }
  if (code === 'provider_auth' || code === 'provider_not_found') {
    return `The AI service is not set up correctly on this server (${code}). Please tell its operator.`;
  }
  return `The reply could not be generated${error?.message ? `: ${error.message}` : '.'}`;
}
