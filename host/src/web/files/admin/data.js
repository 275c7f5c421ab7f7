// Lists several console pages need whole (they are small: a tenant has tens of
// groups and flows), read through the API's pages.

const PAGE = 100;
/** At most this many pages are read, so a huge tenant cannot stall a page. */
const MAX_PAGES = 20;

export async function all(api, path) {
  const out = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await api.get(`${path}?page=${page}&page_size=${PAGE}`);
    out.push(...answer.items);
    if (out.length >= answer.total || !answer.items.length) break;
  }
  return out;
}

export const allGroups = (api) => all(api, "/skill-groups");
export const allFlows = (api) => all(api, "/flows");
