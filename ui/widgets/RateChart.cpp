#include "widgets/RateChart.h"

#include <QPainter>
#include <QLocale>
#include <QPainterPath>

namespace sb::ui {

RateChart::RateChart(QWidget *parent) : QWidget(parent)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("Messages per second over the last two minutes: emits in (blue), "
                  "deliveries out (grey)"));
}

void RateChart::addSample(double in, double out)
{
    m_samples.emplace_back(in, out);
    while (m_samples.size() > std::size_t(kSamples))
        m_samples.pop_front();
    update();
}

void RateChart::clear()
{
    m_samples.clear();
    update();
}

void RateChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF area = QRectF(rect()).adjusted(2, 4, -2, -2);
    double top = 1;
    for (const auto &[in, out] : m_samples)
        top = std::max({top, in, out});
    const auto path = [&](bool useOut) {
        QPainterPath line;
        const double step = area.width() / (kSamples - 1);
        double x = area.right() - step * double(m_samples.size() - 1);
        bool first = true;
        for (const auto &s : m_samples) {
            const double v = useOut ? s.second : s.first;
            const QPointF point(x, area.bottom() - area.height() * v / top);
            if (first)
                line.moveTo(point);
            else
                line.lineTo(point);
            first = false;
            x += step;
        }
        return line;
    };
    p.setPen(QPen(palette().mid().color(), 1.5));
    p.drawPath(path(true));
    p.setPen(QPen(palette().highlight().color(), 2));
    p.drawPath(path(false));
    p.setPen(palette().text().color());
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    p.setFont(f);
    p.drawText(area.adjusted(2, -2, 0, 0), Qt::AlignLeft | Qt::AlignTop,
               tr("max %1/s").arg(QLocale().toString(top, 'f', 0)));
    p.setPen(palette().mid().color());
    p.drawRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));
}

} // namespace sb::ui
