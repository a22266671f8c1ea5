//! Ready-made observers: [`Silent`] (the default), [`WithData`] (a closure
//! that wants the data events too) and [`LogObserver`] (every event to the
//! `log` facade).

use crate::event::{Event, Observer};

/// An observer that ignores everything (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) {}

    fn wants_data(&self) -> bool {
        false
    }
}

/// A closure observer that is told of [`Event::Read`], [`Event::Wrote`] and
/// [`Event::Datagram`] too (a bare closure is not: the bytes cost a call
/// per read and write).
///
/// ```
/// use netcore::{Event, WithData};
/// let observer = WithData(|e: &Event<'_>| {
///     if let Event::Read { data, .. } = e {
///         let _ = data.len();
///     }
/// });
/// # let _ = netcore::Builder::new("127.0.0.1:0".parse().unwrap()).observer(observer);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WithData<F>(pub F);

impl<F> Observer for WithData<F>
where
    F: Fn(&Event<'_>) + Send + Sync + 'static,
{
    fn event(&self, event: &Event<'_>) {
        (self.0)(event)
    }

    fn wants_data(&self) -> bool {
        true
    }
}

/// Routes every event to the [`log`](https://docs.rs/log) facade, under
/// the target `netcore`: errors the server survived at `warn`, the
/// lifecycle (listening, shutting down, stopped) at `info`, connections
/// and datagrams at `debug`, data at `trace` (asked for only when `trace`
/// is enabled). netcore installs no logger: the application picks one.
///
/// ```
/// let running = netcore::Builder::new("127.0.0.1:0".parse().unwrap())
///     .observer(netcore::LogObserver)
///     .serve(Hello)
///     .unwrap();
/// running.shutdown(std::time::Duration::ZERO);
/// # struct Hello;
/// # struct HelloHandler;
/// # impl netcore::Handler for HelloHandler {
/// #     fn on_data(&mut self, _: &mut netcore::Connection<'_>, _: &[u8]) -> netcore::Flow { netcore::Flow::Close }
/// # }
/// # impl netcore::Server for Hello {
/// #     type Handler = HelloHandler;
/// #     fn handler(&self, _: &netcore::ConnectionInfo) -> HelloHandler { HelloHandler }
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogObserver;

impl Observer for LogObserver {
    fn event(&self, event: &Event<'_>) {
        let level = match event {
            Event::Error { .. } => log::Level::Warn,
            Event::Listening { .. } | Event::ShuttingDown { .. } | Event::Stopped => {
                log::Level::Info
            }
            Event::Read { .. } | Event::Wrote { .. } => log::Level::Trace,
            _ => log::Level::Debug,
        };
        log::log!(target: "netcore", level, "{event}");
    }

    fn wants_data(&self) -> bool {
        log::log_enabled!(target: "netcore", log::Level::Trace)
    }
}
