//! GitHub's lists, read page by page: each item once, and where a list stopped short.

use super::ApiError;

/// GitHub answers at most 1,000 results of a filtered list: 10 pages of 100. Lists of
/// workflows and of an organisation's repositories stop there too, and say so ([`Cut`]).
pub const MAX_PAGES: u32 = 10;

/// A list read page by page, each item once.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// The items, in GitHub's order.
    pub items: Vec<T>,
    /// Set when the list stopped before its end.
    pub cut: Option<Cut>,
}

/// Where a list stopped before its end: at [`MAX_PAGES`], or at a page that only repeated
/// the ones before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// How many distinct items were read.
    pub listed: usize,
    /// How many GitHub says there are, when it says.
    pub counted: Option<u64>,
    /// The last item read, by name.
    pub last: Option<String>,
    /// True when a full page brought nothing new (GitHub, or a proxy, repeating a page).
    pub repeated: bool,
}

/// The pages of 100 that `page` reads (its items, and GitHub's count when it gives one),
/// each item once by `key`, until a short page, the count, a page with nothing new, or
/// [`MAX_PAGES`]. `name` names the last item read, for a cut.
pub(super) fn paged<T, K: Eq + std::hash::Hash>(
    key: impl Fn(&T) -> K,
    name: impl Fn(&T) -> String,
    mut page: impl FnMut(u32) -> Result<(Vec<T>, Option<u64>), ApiError>,
) -> Result<Listed<T>, ApiError> {
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::new();
    let mut counted = None;
    let mut repeated = false;
    for n in 1..=MAX_PAGES {
        let (got, count) = page(n)?;
        counted = count.or(counted);
        let short = got.len() < 100;
        let before = items.len();
        items.extend(got.into_iter().filter(|item| seen.insert(key(item))));
        let all = counted.is_some_and(|c| items.len() as u64 >= c);
        if short || all {
            return Ok(Listed { items, cut: None });
        }
        if items.len() == before {
            repeated = true;
            break;
        }
    }
    let cut = Cut {
        listed: items.len(),
        counted,
        last: items.last().map(name),
        repeated,
    };
    Ok(Listed {
        items,
        cut: Some(cut),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `paged` over pages of `size` items numbered from `first(page)`, counting the requests.
    fn read(
        size: impl Fn(u32) -> u64,
        first: impl Fn(u32) -> u64,
        counted: Option<u64>,
    ) -> (Listed<u64>, u32) {
        let mut asked = 0;
        let listed = paged(
            |n: &u64| *n,
            |n| n.to_string(),
            |page| {
                asked += 1;
                let from = first(page);
                Ok(((from..from + size(page)).collect(), counted))
            },
        )
        .unwrap();
        (listed, asked)
    }

    #[test]
    fn a_short_page_or_the_count_ends_a_list_whole() {
        let (l, asked) = read(
            |p| if p < 3 { 100 } else { 7 },
            |p| u64::from(p) * 100,
            None,
        );
        assert_eq!((l.items.len(), l.cut, asked), (207, None, 3));
        let (l, asked) = read(|_| 100, |p| u64::from(p) * 100, Some(200));
        assert_eq!((l.items.len(), l.cut, asked), (200, None, 2));
    }

    #[test]
    fn the_page_bound_cuts_a_list_and_says_where() {
        let (l, asked) = read(|_| 100, |p| u64::from(p) * 100, Some(1050));
        assert_eq!(asked, MAX_PAGES);
        assert_eq!(
            l.cut,
            Some(Cut {
                listed: 1000,
                counted: Some(1050),
                last: Some("1099".into()),
                repeated: false,
            })
        );
    }

    #[test]
    fn repeated_pages_give_each_item_once_and_stop() {
        let (l, asked) = read(|_| 100, |_| 0, Some(1000));
        assert_eq!(asked, 2, "the second page brought nothing new");
        assert_eq!(l.items, (0..100).collect::<Vec<_>>());
        let cut = l.cut.unwrap();
        assert!(cut.repeated);
        assert_eq!(cut.listed, 100);
        // Pages that overlap but still bring something go on.
        let (l, _) = read(|p| if p < 4 { 100 } else { 0 }, |p| u64::from(p) * 50, None);
        assert_eq!(l.items, (50..250).collect::<Vec<_>>());
        assert_eq!(l.cut, None);
    }
}
